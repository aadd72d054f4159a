import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasGuestAgent, hasMemoryImages, loadDriver, type ComputeDriver, type ImageMeta, type InstanceRef } from '@virtplug/core';
import { Cloudlet } from '../../src/cloudlet.js';
import { settingsFrom, type CloudletSettings } from '../../src/config.js';
import type { CloudletDriver } from '../../src/synthesis/launch.js';

export const PREFIX = 'vp-cl-';
export const URI = 'qemu:///system';
export const GUEST_DIR = '/var/lib/virtplug/guest-image';
export const EVIDENCE_DIR = fileURLToPath(new URL('../../../../docs/evidence', import.meta.url));
const BOOT_MS = 120_000;

/** Fails (never skips) with the setup command when the guest image is missing. */
export function guestImage(): ImageMeta {
  const manifestPath = join(GUEST_DIR, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`The project guest image is missing in ${GUEST_DIR}; build it with: bash tools/guest-image/build.sh`);
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { cmdline?: string; inputsHash?: string; kernel?: string };
  const kernel = join(GUEST_DIR, m.kernel ?? 'vmlinuz');
  return {
    id: `guest-${(m.inputsHash ?? 'x').slice(0, 12)}`,
    name: 'virtplug test guest',
    diskFormat: 'qcow2',
    path: join(GUEST_DIR, 'data.qcow2'),
    kernel: existsSync(kernel) ? kernel : join(GUEST_DIR, 'vmlinuz'),
    initrd: join(GUEST_DIR, 'initrd.img'),
    cmdline: m.cmdline ?? 'console=ttyS0 quiet',
  };
}

export function requireLibvirtd(): void {
  try {
    execFileSync('virsh', ['-c', URI, 'version'], { stdio: 'pipe', timeout: 15_000 });
  } catch (e) {
    throw new Error(`libvirtd does not answer at ${URI} (${(e as Error).message.split('\n')[0]}); start it with: bash tools/libvirt/start-libvirtd.sh`);
  }
}

export function tag(): string {
  return randomBytes(3).toString('hex');
}

export interface LiveEnv {
  statePath: string;
  driver: CloudletDriver;
  cloudlet: Cloudlet;
  close(): Promise<void>;
}

/** The real libvirt driver (shared-RAM VMS mode, so instances can be captured) and a cloudlet on it. */
export async function liveEnv(name: string, settings: Partial<CloudletSettings> = {}, statePath?: string): Promise<LiveEnv> {
  requireLibvirtd();
  const state = statePath ?? mkdtempSync(join('/var/tmp', `${PREFIX}${name}-`));
  const driver: ComputeDriver = await loadDriver({
    computeDriver: 'libvirt',
    statePath: state,
    logLevel: process.env.VP_LOG_LEVEL ?? 'silent',
    libvirt: { vms_mode: 'shared', event_poll_interval: 0, shutdown_timeout: 5 },
  });
  if (!hasMemoryImages(driver) || !hasGuestAgent(driver)) {
    await driver.close();
    throw new Error('The libvirt driver exposes no memoryImages/guestAgent yet (packages/libvirt/src/vms/memory-images.ts must be attached as driver.memoryImages).');
  }
  // A tmpfs dir of this run for rebuilt RAM and captures, removed with it.
  const ramDir = settings.ram_dir ?? `/dev/shm/${PREFIX}${name}-${randomBytes(3).toString('hex')}`;
  const cloudlet = new Cloudlet(driver, settingsFrom({ base_dir: join(state, 'cloudlet'), zstd_level: 3, ...settings, ram_dir: ramDir }));
  return {
    statePath: state,
    driver: driver as CloudletDriver,
    cloudlet,
    async close() {
      await cloudlet.close();
      await driver.close();
      if (ramDir.startsWith(`/dev/shm/${PREFIX}`)) await rm(ramDir, { recursive: true, force: true });
    },
  };
}

export async function boot(driver: CloudletDriver, name: string, memoryMb = 256): Promise<InstanceRef> {
  const ref = { uuid: randomUUID(), name };
  await driver.spawn({ ...ref, flavor: { name: 'vp-cl', memoryMb, vcpus: 1, rootGb: 1 } }, guestImage());
  await driver.guestAgent(ref).waitReady(BOOT_MS);
  return ref;
}

export function agentCall<T = Record<string, unknown>>(driver: CloudletDriver, ref: InstanceRef, op: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
  return driver.guestAgent(ref).request<T>(op, args, { timeoutMs });
}

export async function readGuestFile(driver: CloudletDriver, ref: InstanceRef, path: string): Promise<Buffer> {
  const r = await agentCall<{ data_b64: string; truncated: boolean }>(driver, ref, 'read-file', { path, max: 16 << 20 });
  if (r.truncated) throw new Error(`${path} is larger than 16 MiB`);
  return Buffer.from(r.data_b64, 'base64');
}

/** Domains with our prefix and this run's tag, as libvirt sees them (names). */
export function domainsWith(fragment: string): string[] {
  const out = execFileSync('virsh', ['-c', URI, 'list', '--all', '--name'], { stdio: 'pipe' }).toString();
  return out.split('\n').map((s) => s.trim()).filter((n) => n.startsWith(PREFIX) && n.includes(fragment));
}

/** Destroys every domain of this run (by name fragment) through the driver, then by virsh. */
export async function destroyRun(driver: ComputeDriver | null, fragment: string): Promise<void> {
  for (const name of domainsWith(fragment)) {
    let uuid = '';
    try {
      uuid = execFileSync('virsh', ['-c', URI, 'domuuid', name], { stdio: 'pipe' }).toString().trim();
    } catch {
      continue;
    }
    if (driver) await driver.destroy({ uuid, name }).catch(() => undefined);
    for (const args of [['destroy', name], ['undefine', name, '--nvram']]) {
      try {
        execFileSync('virsh', ['-c', URI, ...args], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
  }
}

export async function removeState(path: string): Promise<void> {
  if (path.startsWith('/var/tmp/vp-cl-')) await rm(path, { recursive: true, force: true });
}
