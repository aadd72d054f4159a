import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance, InstanceRef } from '@virtplug/core';
import type { LibvirtDriver } from '../../src/driver.js';
import { attachVms } from '../../src/vms/attach.js';
import { spareFifoOwner } from '../../src/vms/fifos.js';
import { ownerAlive } from '../../src/vms/owner.js';
import type { LibvirtMemoryImages } from '../../src/vms/memory-images.js';
import type { LibvirtVmStreaming } from '../../src/vms/vm-streaming.js';
import { parseXml, serializeXml } from '../../src/xml/tree.js';
import { guestImage, LIVE_URI, makeDriver, requireLibvirtd } from '../helpers/env.js';

/** Everything the VMS suites create carries this prefix: domains, dirs, the bridge, RAM files. */
export const PREFIX = 'vp-vms-';
export const BRIDGE = 'vpvmsbr0';
export const BOOT_MS = 120_000;

export interface VmsEnv {
  tag: string;
  mode: 'shared' | 'copy';
  statePath: string;
  ramDir: string;
  runDir: string;
  driver: LibvirtDriver;
  vms: LibvirtVmStreaming;
  memoryImages: LibvirtMemoryImages;
  /** Every domain UUID this env made or saw launched: teardown destroys exactly these. */
  uuids: Set<string>;
}

export function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-c', LIVE_URI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
}

export function virshOk(...args: string[]): boolean {
  try {
    virsh(...args);
    return true;
  } catch {
    return false;
  }
}

/** Fails, with the command to run, when libvirtd, the guest image or tmpfs is missing. */
export function requireVmsPrereqs(): void {
  requireLibvirtd();
  guestImage();
  if (!existsSync('/dev/shm')) throw new Error('/dev/shm (tmpfs) is missing; shared mode keeps RAM files there: mount -t tmpfs tmpfs /dev/shm');
}

export function ensureBridge(): void {
  if (!existsSync(`/sys/class/net/${BRIDGE}`)) {
    execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  }
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
}

/** Removes the test bridge once nothing is attached to it any more. */
export function removeBridge(): void {
  const ports = `/sys/class/net/${BRIDGE}/brif`;
  if (existsSync(ports) && readdirSync(ports).length === 0) execFileSync('ip', ['link', 'del', BRIDGE]);
}

export async function makeEnv(tag: string, mode: 'shared' | 'copy'): Promise<VmsEnv> {
  requireVmsPrereqs();
  ensureBridge();
  const rand = randomBytes(3).toString('hex');
  const statePath = mkdtempSync(join('/var/tmp', `${PREFIX}${tag}-`));
  const ramDir = `/dev/shm/${PREFIX}${tag}-${rand}`;
  const runDir = `/run/${PREFIX}${tag}-${rand}`;
  const driver = makeDriver({ vms_mode: mode, vnc_enabled: false, op_timeout_seconds: 120 }, statePath);
  await driver.init();
  const { vms, memoryImages } = attachVms(driver, { statePath, ramDir, runDir });
  return { tag, mode, statePath, ramDir, runDir, driver, vms, memoryImages, uuids: new Set() };
}

/** Another process's view of an env (the SIGKILL tests' child): same paths, its own driver. */
export async function attachToEnv(paths: { statePath: string; ramDir: string; runDir: string }, mode: 'shared' | 'copy'): Promise<VmsEnv> {
  const driver = makeDriver({ vms_mode: mode, vnc_enabled: false, op_timeout_seconds: 120 }, paths.statePath);
  await driver.init();
  const { vms, memoryImages } = attachVms(driver, paths);
  return { tag: 'child', mode, ...paths, driver, vms, memoryImages, uuids: new Set() };
}

export function instanceFor(env: VmsEnv, name: string, memoryMb = 256): Instance {
  return {
    uuid: randomUUID(),
    name,
    flavor: { name: 'vms-test', memoryMb, vcpus: 1, rootGb: 0 },
    networkInfo: [
      {
        id: `vif-${randomBytes(3).toString('hex')}`,
        address: `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`,
        network: { id: 'vp-vms-net', label: 'vp-vms', segmentType: 'flat', bridge: BRIDGE },
      },
    ],
  };
}

/**
 * Boots a source through the real driver. On a shared-mode env its RAM becomes a shared tmpfs file
 * (what the driver's spawn does once it calls vms.prepareSpawnXml; done here by redefining).
 */
export async function bootSource(env: VmsEnv, name: string, memoryMb = 256): Promise<InstanceRef> {
  return (await bootSourceTimed(env, name, memoryMb)).ref;
}

/** bootSource, also returning the cold boot time: power on until the guest agent answers. */
export async function bootSourceTimed(env: VmsEnv, name: string, memoryMb = 256): Promise<{ ref: InstanceRef; bootMs: number }> {
  const instance = instanceFor(env, name, memoryMb);
  env.uuids.add(instance.uuid);
  await env.driver.spawn(instance, guestImage(), { powerOn: false });
  const tree = parseXml(virsh('dumpxml', '--inactive', '--security-info', instance.uuid));
  env.vms.prepareSpawnXml(tree, instance.uuid);
  const file = join(env.statePath, `${instance.uuid}.xml`);
  writeFileSync(file, serializeXml(tree), { mode: 0o600 });
  virsh('define', file);
  rmSync(file);
  const t0 = performance.now();
  await env.driver.powerOn(instance);
  await env.driver.guestAgent(instance).waitReady(BOOT_MS);
  return { ref: { uuid: instance.uuid, name: instance.name }, bootMs: Math.round(performance.now() - t0) };
}

/** Destroys what the env made (tracked UUIDs and clones recorded in its live images), then its files. */
export async function teardown(env: VmsEnv | undefined): Promise<void> {
  if (!env) return;
  for (const m of env.vms ? readManifests(env) : []) for (const c of m.clones) env.uuids.add(c);
  for (const uuid of env.uuids) {
    virshOk('destroy', uuid);
    virshOk('undefine', uuid, '--managed-save', '--snapshots-metadata', '--nvram');
  }
  await env.driver.close().catch(() => undefined);
  for (const dir of [env.statePath, env.ramDir, env.runDir]) rmSync(dir, { recursive: true, force: true });
  removeBridge();
}

function readManifests(env: VmsEnv): Array<{ clones: string[] }> {
  const root = join(env.statePath, 'vms');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => /^[0-9a-f-]{36}$/.test(d))
    .map((d) => {
      try {
        return JSON.parse(execFileSync('cat', [join(root, d, 'manifest.json')]).toString()) as { clones: string[] };
      } catch {
        return { clones: [] };
      }
    });
}

/** What VMS left behind: live image dirs, RAM files, run dirs, and domains of the given UUIDs. */
export function vmsLeftovers(env: VmsEnv, uuids: Iterable<string> = []): string[] {
  const out: string[] = [];
  const root = join(env.statePath, 'vms');
  if (existsSync(root)) for (const d of readdirSync(root)) if (d !== '.locks' && (d !== 'restored' || readdirSync(join(root, d)).length)) out.push(join(root, d));
  if (existsSync(env.ramDir)) {
    for (const f of readdirSync(env.ramDir)) {
      if (f === 'live') for (const g of readdirSync(join(env.ramDir, 'live'))) out.push(join(env.ramDir, 'live', g));
      else out.push(join(env.ramDir, f));
    }
  }
  if (existsSync(env.runDir)) {
    for (const d of readdirSync(env.runDir)) {
      // A live process's spare restore FIFO is its stock for the next launch, not a leftover (gc
      // removes it once the process is gone: fifos.spec.ts).
      const spareOwner = spareFifoOwner(d);
      if (!(spareOwner && ownerAlive(spareOwner))) out.push(join(env.runDir, d));
    }
  }
  for (const u of uuids) if (virshOk('domname', u)) out.push(`domain ${u}`);
  return out;
}

export async function agentRequest<T = Record<string, unknown>>(env: VmsEnv, ref: InstanceRef, op: string, args: Record<string, unknown> = {}): Promise<T> {
  const agent = env.driver.guestAgent(ref);
  await agent.waitReady(BOOT_MS);
  return agent.request<T>(op, args, { timeoutMs: 30_000 });
}

export async function hookLog(env: VmsEnv, ref: InstanceRef): Promise<string> {
  const r = await agentRequest<{ data_b64: string }>(env, ref, 'read-file', { path: '/run/virtplug/hook.log' });
  return Buffer.from(r.data_b64, 'base64').toString('utf8');
}
