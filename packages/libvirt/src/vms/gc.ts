import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmsGcReport } from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import { removeBlessedArtifacts } from './bless.js';
import type { VmsContext } from './context.js';
import { domainExists, domainState } from './domains.js';
import { aliveElsewhere, disksInUse, pendingOwner, removeAll } from './discard.js';
import { spareFifoOwner } from './fifos.js';
import { FileLock } from './locks.js';
import { removeClone } from './launch-one.js';
import { isUuid } from './names.js';
import { ownerAlive, type Owner } from './owner.js';
import { ignoreSharedCommand } from './qmp.js';
import type { BlessedManifest } from './records.js';

/** A directory without a manifest younger than this may be a bless that is just starting. */
const FRESH_MS = 60_000;

/**
 * Cleans up after runs that died (SIGKILL, power loss): a bless that never finished (its source is
 * resumed if it was left paused, its artifacts removed), a discard half done, clones whose launching
 * process died, leftovers of deleted clones (overlays, sockets), RAM files nothing refers to. Only
 * records whose owner process is gone are touched, so gc is safe while other runs are in progress.
 */
export async function gc(ctx: VmsContext): Promise<VmsGcReport> {
  const report: VmsGcReport = { removed: [], resumed: [] };
  const known = new Set<string>();
  const liveClones = new Set<string>();
  for (const id of ctx.manifests.ids()) {
    const m = ctx.manifests.read(id);
    if (!m) {
      const dir = ctx.layout.blessedDir(id);
      if (Date.now() - mtime(dir) > FRESH_MS) {
        await rm(dir, { recursive: true, force: true });
        await rm(ctx.layout.blessedRam(id), { force: true });
        report.removed.push(`${dir} (no manifest)`);
      } else known.add(id);
      continue;
    }
    known.add(id);
    if (m.status === 'blessing' && !ownerAlive(m.owner)) {
      await finishCrashedBless(ctx, m, report);
      known.delete(id);
    } else if (m.status === 'discarding' && !ownerAlive(m.owner)) {
      await removeAll(ctx, m);
      report.removed.push(`live image ${id} (interrupted discard)`);
      known.delete(id);
    } else if (m.status === 'discarded') {
      if ((await disksInUse(ctx, m)).length === 0) {
        await rm(ctx.layout.blessedDir(id), { recursive: true, force: true });
        report.removed.push(`retained disks of discarded live image ${id}`);
      }
    } else if (m.status === 'blessed') {
      for (const c of await sweepClones(ctx, m, report)) liveClones.add(c);
    }
  }
  for (const c of await sweepRestored(ctx, report)) liveClones.add(c);
  await sweepRamDir(ctx, known, report);
  await sweepRunDir(ctx, liveClones, report);
  return report;
}

async function finishCrashedBless(ctx: VmsContext, m: BlessedManifest, report: VmsGcReport): Promise<void> {
  if (m.pausedSource && (await domainState(ctx, m.blessedFrom)) === DomainState.PAUSED) {
    await ctx.transport.resume(m.blessedFrom);
    report.resumed.push(m.blessedFrom);
  }
  if (m.mode === 'shared' && (await domainState(ctx, m.blessedFrom)) === DomainState.RUNNING) {
    await ctx.transport.qemuMonitorCommand(m.blessedFrom, ignoreSharedCommand(false)).catch(() => undefined);
  }
  await removeBlessedArtifacts(ctx, m);
  report.removed.push(`live image ${m.id} (interrupted bless of ${m.blessedFrom})`);
}

/** Returns the clones that still exist or are being launched; removes the rest's leftovers. */
async function sweepClones(ctx: VmsContext, m: BlessedManifest, report: VmsGcReport): Promise<string[]> {
  const dir = join(ctx.layout.blessedDir(m.id), 'clones');
  const onDisk = existsSync(dir) ? readdirSync(dir).filter(isUuid) : [];
  const alive: string[] = [];
  const gone: string[] = [];
  for (const uuid of new Set([...m.clones, ...onDisk])) {
    const pending = pendingOwner(ctx, m.id, uuid);
    if (pending && ownerAlive(pending)) {
      alive.push(uuid);
      continue;
    }
    const exists = await domainExists(ctx, uuid);
    const migrated = (m.migratedClones ?? []).find((x) => x.uuid === uuid);
    if (!exists && migrated && (await aliveElsewhere(ctx, migrated.destUri, uuid)) !== false) {
      // Runs on another host over shared storage: its overlay and sockets are in use there.
      alive.push(uuid);
      continue;
    }
    if (pending) {
      // Its launching process died: whatever it made goes, domain included.
      await removeClone(ctx, ctx.layout.cloneDir(m.id, uuid), uuid);
      report.removed.push(`clone ${uuid} (interrupted launch from ${m.id})`);
      gone.push(uuid);
    } else if (exists) {
      alive.push(uuid);
    } else {
      if (existsSync(ctx.layout.cloneDir(m.id, uuid)) || existsSync(ctx.layout.cloneRun(uuid))) {
        await removeClone(ctx, ctx.layout.cloneDir(m.id, uuid), uuid);
        report.removed.push(`files of deleted clone ${uuid}`);
      }
      gone.push(uuid);
    }
  }
  if (gone.length) {
    const lock = await FileLock.acquire(ctx.layout.lock(m.id), 'gc', `Live image ${m.id}`);
    try {
      const cur = ctx.manifests.read(m.id);
      if (cur) {
        ctx.manifests.write({
          ...cur,
          clones: cur.clones.filter((c) => !gone.includes(c)),
          ...(cur.migratedClones ? { migratedClones: cur.migratedClones.filter((x) => !gone.includes(x.uuid)) } : {}),
        });
      }
    } finally {
      lock.release();
    }
  }
  return alive;
}

/** Instances restored from memory images: same rules as clones, without a live image record. */
async function sweepRestored(ctx: VmsContext, report: VmsGcReport): Promise<string[]> {
  const alive: string[] = [];
  for (const uuid of list(join(ctx.layout.paths.root, 'restored')).filter(isUuid)) {
    const dir = ctx.layout.restoredDir(uuid);
    const pending = readOwner(join(dir, 'pending.json'));
    if (pending && ownerAlive(pending)) alive.push(uuid);
    else if (pending) {
      await removeClone(ctx, dir, uuid);
      report.removed.push(`restored instance ${uuid} (interrupted restore)`);
    } else if ((await domainExists(ctx, uuid))) alive.push(uuid);
    else {
      await removeClone(ctx, dir, uuid);
      report.removed.push(`files of deleted restored instance ${uuid}`);
    }
  }
  return alive;
}

function readOwner(path: string): Owner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Owner;
  } catch {
    return null;
  }
}

async function sweepRamDir(ctx: VmsContext, known: Set<string>, report: VmsGcReport): Promise<void> {
  for (const f of list(ctx.layout.paths.ramDir)) {
    const id = f.replace(/\.ram$/, '');
    if (!f.endsWith('.ram') || !isUuid(id) || known.has(id)) continue;
    await rm(join(ctx.layout.paths.ramDir, f), { force: true });
    report.removed.push(`RAM file of unknown live image ${id}`);
  }
  // Template RAM files: QEMU creates them and never deletes them; they go once their domain is off.
  const liveDir = join(ctx.layout.paths.ramDir, 'live');
  for (const f of list(liveDir)) {
    const uuid = f.replace(/\.ram$/, '');
    if (!f.endsWith('.ram') || !isUuid(uuid)) continue;
    const state = await domainState(ctx, uuid);
    if (state === null || state === DomainState.SHUTOFF) {
      await rm(join(liveDir, f), { force: true });
      report.removed.push(`RAM file of stopped instance ${uuid}`);
    }
  }
}

async function sweepRunDir(ctx: VmsContext, liveClones: Set<string>, report: VmsGcReport): Promise<void> {
  for (const name of list(ctx.layout.paths.runDir)) {
    const owner = spareFifoOwner(name);
    if (owner && !ownerAlive(owner)) {
      await rm(join(ctx.layout.paths.runDir, name), { force: true });
      report.removed.push(`spare FIFO of ended process ${owner.pid}`);
    }
  }
  for (const uuid of list(ctx.layout.paths.runDir)) {
    if (!isUuid(uuid) || liveClones.has(uuid)) continue;
    if ((await domainExists(ctx, uuid))) continue;
    if (Date.now() - mtime(join(ctx.layout.paths.runDir, uuid)) < FRESH_MS) continue;
    await rm(ctx.layout.cloneRun(uuid), { recursive: true, force: true });
    report.removed.push(`sockets of gone clone ${uuid}`);
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
