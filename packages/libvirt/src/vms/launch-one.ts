import { constants as fsc, existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationFailedError } from '@virtplug/core';
import { parseXml, serializeXml } from '../xml/tree.js';
import { interfaceAliases, persistentCloneXml, rewriteForClone } from './clone-xml.js';
import type { VmsContext } from './context.js';
import { destroyDomain, writeVmsMetadata } from './domains.js';
import { targetToSoftLimitKiB } from './memory-string.js';
import { currentOwner } from './owner.js';
import { cloneMetadataElement, cloneMetadataXml, VMS_NS, type BlessedManifest } from './records.js';
import { restoreClone, whenSocketAppears, type RestoredClone } from './restore.js';
import { readSaveImageHead } from './save-image.js';
import { readRamBackend, type RamBackend } from './shared-ram.js';

export interface ClonePlan {
  uuid: string;
  name: string;
  hostname: string;
  macs: string[];
  targetPages?: number;
  /** Where the clone's own files go (disk overlays, console log, pending marker). */
  dir: string;
  /** Overlay paths chosen by the caller (MemoryImages restore), by target. */
  diskPaths?: Record<string, string>;
  /** The restore FIFO, if the caller started making it (prepareFifo) before the plan was settled. */
  fifo?: Promise<string>;
}

/** What a clone is made from: a live image, or a MemoryImage (cloudlets). */
export interface CloneSource {
  /** The live image id (`launched_from`); null for a plain memory-image restore. */
  launchedFrom: string | null;
  blessedFrom: string;
  mode: BlessedManifest['mode'];
  xml: string;
  state: string;
  ram?: string;
  /** The clone owns `ram` and maps it shared, as a spawned shared-mode instance does (capturable). */
  ramOwned?: boolean;
  disks: BlessedManifest['artifacts']['disks'];
}

export function sourceOf(m: BlessedManifest): CloneSource {
  return { launchedFrom: m.id, blessedFrom: m.blessedFrom, mode: m.mode, xml: m.xml, state: m.artifacts.state, ...(m.artifacts.ram ? { ram: m.artifacts.ram } : {}), disks: m.artifacts.disks };
}

export function cloneDiskPath(plan: ClonePlan, target: string): string {
  if (!/^[a-z]{2,4}[a-z0-9]{0,3}$/.test(target)) throw new Error(`unexpected disk target ${JSON.stringify(target)}`);
  return join(plan.dir, `disk-${target}.qcow2`);
}

export interface CloneRecord {
  uuid: string;
  name: string;
  launchedFrom: string;
  blessedFrom: string;
  mode: BlessedManifest['mode'];
  macs: string[];
  hostname: string;
  /** The guest's identity as its agent reported it after re-identification. */
  identity: Record<string, unknown>;
  hooks: Array<{ name: string; exit: number; stdout: string }>;
  /** Launch call to agent answering, and the restore alone. */
  launchMs: number;
  restoreMs: number;
}

interface HookResult {
  hooks?: Array<{ name: string; exit: number; stdout: string; error?: string; timed_out?: boolean }>;
}

/**
 * One clone: overlays on the blessed disks, the rewritten XML, a restore with every link down,
 * re-identification by the agent (MAC, hostname, machine-id), the params hooks, links up,
 * then a persistent definition (anonymous RAM, so a later cold boot needs nothing of the image).
 * `t0` is when the launch began: its `launchMs` runs from there to the agent's first answer.
 */
export async function launchOne(ctx: VmsContext, m: CloneSource, plan: ClonePlan, params: Record<string, string>, t0 = performance.now()): Promise<CloneRecord> {
  const dir = plan.dir;
  const run = ctx.layout.cloneRun(plan.uuid);
  const head = readSaveImageHead(m.state);
  head.catch(() => undefined);
  await Promise.all([mkdir(dir, { recursive: true, mode: 0o700 }), mkdir(run, { recursive: true, mode: 0o700 })]);
  const disks: Record<string, string> = {};
  for (const d of m.disks) disks[d.target] = plan.diskPaths?.[d.target] ?? cloneDiskPath(plan, d.target);
  // Made while the XML is written and libvirt starts (see restoreClone's prerequisites); a failure
  // surfaces through the restore.
  const overlays = Promise.all(m.disks.map((d) => makeOverlay(ctx, disks[d.target]!, d)));
  overlays.catch(() => undefined);
  const fifo = plan.fifo ?? prepareFifo(ctx, plan.uuid);
  fifo.catch(() => undefined);

  const tree = parseXml(m.xml);
  const hadBackend = readRamBackend(tree) !== null;
  const ram: RamBackend | null = m.mode === 'shared' ? { kind: 'file', path: m.ram!, share: m.ramOwned === true } : hadBackend ? { kind: 'ram' } : null;
  const qmpSocket = join(run, 'qmp.sock');
  const nics = interfaceAliases(tree);
  const agentSocket = join(run, 'agent.sock');
  rewriteForClone(tree, {
    name: plan.name,
    uuid: plan.uuid,
    macs: plan.macs,
    disks,
    serialLog: join(dir, 'console.log'),
    agentSocket,
    channelDir: run,
    ram,
    qmpSocket,
    linkDown: true,
    ...(m.launchedFrom
      ? { metadata: cloneMetadataElement({ launchedFrom: m.launchedFrom, blessedFrom: m.blessedFrom, mode: m.mode, status: 'launching', createdAt: new Date().toISOString(), owner: currentOwner() }) }
      : {}),
    metadataNs: VMS_NS,
  });

  const agent = ctx.agent(agentSocket, `clone ${plan.name}`);
  let restoreFailed = false;
  // The agent is asked as soon as its socket exists (libvirt makes it before QEMU starts): QEMU holds
  // the pings until the restored guest runs, so the first answer comes as early as the guest can give it.
  const answered = whenSocketAppears(agentSocket, ctx.timeouts.restoreMs, () => restoreFailed, 'The restore failed')
    .then(() => agent.waitReady(ctx.timeouts.restoreMs + ctx.timeouts.agentMs))
    .then(() => Math.round(performance.now() - t0));
  answered.catch(() => undefined);

  const tr = performance.now();
  let restored: RestoredClone;
  try {
    restored = await restoreClone({
      restore: (file) => ctx.transport.restore(file),
      resume: () => ctx.transport.resume(plan.uuid),
      stateImage: m.state,
      head: await head,
      xml: serializeXml(tree),
      fifo,
      qmpSocket,
      ignoreShared: m.mode === 'shared',
      nics,
      prerequisites: overlays,
      timeoutMs: ctx.timeouts.restoreMs,
    });
  } catch (e) {
    restoreFailed = true;
    await agent.close();
    // The caller's rollback removes the clone's directory: no overlay may still be in the making then.
    await Promise.allSettled([overlays, fifo, answered]);
    throw e;
  }
  const restoreMs = Math.round(performance.now() - tr);

  let identity: Record<string, unknown>;
  let hooks: HookResult['hooks'];
  try {
    const [launchMs] = await Promise.all([
      answered,
      restored.settle(),
      plan.targetPages === undefined ? undefined : ctx.transport.memtune(plan.uuid, { 'soft-limit': targetToSoftLimitKiB(plan.targetPages) }, { live: true }),
    ]);
    for (let i = plan.macs.length - 1; i >= 1; i--) await agent.request('set-identity', { iface: `eth${i}`, mac: plan.macs[i] });
    identity = await agent.request('set-identity', {
      ...(plan.macs[0] ? { mac: plan.macs[0], iface: 'eth0' } : {}),
      hostname: plan.hostname,
      machine_id: 'new',
    });
    hooks = (await agent.request<HookResult>('params', { params }, { timeoutMs: 130_000 })).hooks ?? [];
    const failed = hooks.filter((h) => h.exit !== 0 || h.timed_out);
    if (failed.length) {
      throw new OperationFailedError(
        `Clone ${plan.name}: guest hook(s) ${failed.map((h) => `${h.name} (exit ${h.exit}${h.timed_out ? ', timed out' : ''})`).join(', ')} failed on the params; the launch is rolled back.`,
        { clone: plan.uuid, hooks: failed },
      );
    }
    for (const mac of plan.macs) await ctx.transport.domifSetLink(plan.uuid, mac, 'up');

    const live = parseXml(await ctx.transport.getXml(plan.uuid, { secure: true }));
    persistentCloneXml(live, hadBackend || m.mode === 'shared', m.ramOwned && ram ? ram : { kind: 'ram' });
    await ctx.transport.define(serializeXml(live));
    if (m.launchedFrom) await writeVmsMetadata(ctx, plan.uuid, cloneMetadataXml({ launchedFrom: m.launchedFrom, blessedFrom: m.blessedFrom, mode: m.mode, status: 'active', createdAt: new Date().toISOString() }));
    await rm(join(dir, 'pending.json'), { force: true });
    ctx.logger.info({ clone: plan.uuid, name: plan.name, from: m.launchedFrom ?? m.state, launchMs, restoreMs }, 'launched');
    return {
      uuid: plan.uuid,
      name: plan.name,
      launchedFrom: m.launchedFrom ?? '',
      blessedFrom: m.blessedFrom,
      mode: m.mode,
      macs: plan.macs,
      hostname: plan.hostname,
      identity,
      hooks: hooks.map((h) => ({ name: h.name, exit: h.exit, stdout: h.stdout })),
      launchMs,
      restoreMs,
    };
  } finally {
    await agent.close();
  }
}

/** A clone's disk: a copy of the image's empty overlay (reflinked where the filesystem can), else a new one. */
async function makeOverlay(ctx: VmsContext, path: string, disk: CloneSource['disks'][number]): Promise<void> {
  if (disk.overlayTemplate && existsSync(disk.overlayTemplate)) await copyFile(disk.overlayTemplate, path, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
  else await ctx.qemuImg.createOverlay(path, disk.path, disk.format);
}

/** Makes a clone's run directory and puts a restore FIFO in it (FifoStock: the spare when there is one). */
export async function prepareFifo(ctx: VmsContext, cloneUuid: string): Promise<string> {
  const run = ctx.layout.cloneRun(cloneUuid);
  await mkdir(run, { recursive: true, mode: 0o700 });
  return ctx.fifos.take(join(run, 'restore.fifo'));
}

/** Removes a clone VMS made (domain, overlays, sockets); used for rollback and by gc. */
export async function removeClone(ctx: VmsContext, dir: string, cloneUuid: string): Promise<void> {
  await destroyDomain(ctx, cloneUuid);
  await rm(dir, { recursive: true, force: true });
  await rm(ctx.layout.cloneRun(cloneUuid), { recursive: true, force: true });
}
