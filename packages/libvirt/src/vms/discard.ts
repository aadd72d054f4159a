import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidStateError, OperationFailedError } from '@virtplug/core';
import type { VmsContext } from './context.js';
import { domainExists, findDomain } from './domains.js';
import { FileLock } from './locks.js';
import { ownerAlive, currentOwner, type Owner } from './owner.js';
import type { BlessedManifest } from './records.js';

/**
 * discard: refused while clones of the image live (on this host, or on the host a clone was migrated
 * to); otherwise every artifact goes: RAM file, device state, clone leftovers, and the frozen disks,
 * unless another live image's disk still backs on them (clones of clones), in which case the record
 * stays as `discarded` holding only those disks until gc finds them unused. Discarding an id that is
 * already gone does nothing (a second discard is harmless).
 */
export async function discard(ctx: VmsContext, blessedId: string): Promise<void> {
  const m0 = ctx.manifests.read(blessedId);
  if (!m0 || m0.status === 'discarded') {
    if (!m0 && (await findDomain(ctx, blessedId))) {
      throw new InvalidStateError(`Instance ${blessedId} is not a live image. Cannot discard a regular instance.`, { id: blessedId });
    }
    ctx.logger.debug({ id: blessedId }, 'discard: no such live image (already discarded)');
    return;
  }
  const lock = await FileLock.acquire(ctx.layout.lock(blessedId), 'discard', `Live image ${blessedId}`);
  try {
    const m = ctx.manifests.read(blessedId);
    if (!m || m.status === 'discarded') return;
    if (m.status === 'blessing' && ownerAlive(m.owner)) throw new InvalidStateError(`Live image ${blessedId} is still being created; discard it when bless is done.`, { id: blessedId });
    const live = await liveClones(ctx, m);
    if (live.length) {
      throw new InvalidStateError(`Instance ${blessedId} still has launched instances. Cannot discard an instance with remaining launched ones.`, { id: blessedId, launched: live });
    }
    m.status = 'discarding';
    m.owner = currentOwner();
    ctx.manifests.write(m);
    await removeAll(ctx, m);
  } finally {
    lock.release();
  }
}

/** Clones that exist (any state) or are still being launched by a live process, or live elsewhere after gc-migrate. */
export async function liveClones(ctx: VmsContext, m: BlessedManifest): Promise<string[]> {
  const out: string[] = [];
  for (const uuid of m.clones) {
    if (await domainExists(ctx, uuid)) out.push(uuid);
    else if (ownerAlive(pendingOwner(ctx, m.id, uuid))) out.push(uuid);
  }
  for (const mig of m.migratedClones ?? []) {
    const alive = await aliveElsewhere(ctx, mig.destUri, mig.uuid);
    if (alive === 'unknown') {
      throw new OperationFailedError(`Clone ${mig.uuid} was migrated to ${mig.destUri}, which cannot be asked whether it still runs; discard when that host is reachable.`);
    }
    if (alive) out.push(mig.uuid);
  }
  return out;
}

/** Whether a clone gc-migrated to another host still exists there ('unknown' if that host does not answer). */
export async function aliveElsewhere(ctx: VmsContext, destUri: string, uuid: string): Promise<boolean | 'unknown'> {
  const r = await ctx.runner.run('virsh', ['-c', destUri, 'domstate', uuid], { timeoutMs: 15_000 });
  if (r.exitCode === 0) return true;
  return /failed to get domain|Domain not found|no domain with matching/i.test(r.stderr) ? false : 'unknown';
}

export function pendingOwner(ctx: VmsContext, blessedId: string, cloneUuid: string): Owner | null {
  try {
    return JSON.parse(readFileSync(join(ctx.layout.cloneDir(blessedId, cloneUuid), 'pending.json'), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

/** Removes everything of a live image except disks other images still back on. */
export async function removeAll(ctx: VmsContext, m: BlessedManifest): Promise<void> {
  if (m.artifacts.ram) await rm(m.artifacts.ram, { force: true });
  for (const uuid of m.clones) await rm(ctx.layout.cloneRun(uuid), { recursive: true, force: true });
  const retained = await disksInUse(ctx, m);
  if (retained.length === 0) {
    await rm(ctx.layout.blessedDir(m.id), { recursive: true, force: true });
    return;
  }
  await rm(m.artifacts.state, { force: true });
  await rm(join(ctx.layout.blessedDir(m.id), 'clones'), { recursive: true, force: true });
  for (const d of m.artifacts.disks) {
    if (d.overlayTemplate) await rm(d.overlayTemplate, { force: true });
    delete d.overlayTemplate;
    if (!retained.includes(d.path)) await rm(d.path, { force: true });
  }
  m.status = 'discarded';
  m.artifacts.disks = m.artifacts.disks.filter((d) => retained.includes(d.path));
  delete m.artifacts.ram;
  delete m.owner;
  ctx.manifests.write(m);
  ctx.logger.info({ id: m.id, retained }, 'discarded; disks kept while other live images back on them');
}

/** This image's disks that appear in the backing chain of another live image's disks. */
export async function disksInUse(ctx: VmsContext, m: BlessedManifest): Promise<string[]> {
  const ours = new Set(m.artifacts.disks.map((d) => d.path));
  const used = new Set<string>();
  for (const other of ctx.manifests.all()) {
    if (other.id === m.id) continue;
    for (const d of other.artifacts.disks) {
      if (!existsSync(d.path)) continue;
      for (const p of await backingChain(ctx, d.path)) if (ours.has(p)) used.add(p);
    }
  }
  return [...used];
}

async function backingChain(ctx: VmsContext, path: string): Promise<string[]> {
  const r = await ctx.runner.run('qemu-img', ['info', '--backing-chain', '--output=json', '-U', path], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) return [];
  const chain = JSON.parse(r.stdout) as Array<{ filename: string; 'full-backing-filename'?: string }>;
  return chain.flatMap((c) => [c.filename, ...(c['full-backing-filename'] ? [c['full-backing-filename']] : [])]);
}
