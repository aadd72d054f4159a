import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, InvalidStateError, OperationFailedError } from '@virtplug/core';
import { parseXml } from '../xml/tree.js';
import { interfaceMacs } from './clone-xml.js';
import { validateDomainName, MAX_NAME_LENGTH } from '../xml/names.js';
import type { VmsContext } from './context.js';
import { findDomain, notFound } from './domains.js';
import { FileLock } from './locks.js';
import { parseMemoryTarget } from './memory-string.js';
import { hostnameFor, randomMac } from './names.js';
import { currentOwner } from './owner.js';
import { validateParams } from './params.js';
import type { BlessedManifest } from './records.js';
import { launchOne, prepareFifo, removeClone, sourceOf, type CloneRecord, type ClonePlan } from './launch-one.js';

export interface LaunchRequest {
  name?: string;
  target?: string;
  params?: Record<string, string>;
  count?: number;
}

export const MAX_COUNT = 16;

/**
 * launch: N clones of a live image. Everything that can be refused is checked before any clone is
 * created (params size, count, names), and a refused launch leaves nothing behind (the restore FIFOs
 * made alongside the checks are removed again). Clones are then
 * reserved in the manifest under the image's lock (discard sees them), made one by one, and if one
 * fails the clones of this call are removed again: a launch succeeds or fails as a whole.
 */
export async function launch(ctx: VmsContext, blessedId: string, req: LaunchRequest = {}): Promise<CloneRecord[]> {
  const calledAt = performance.now();
  const params = validateParams(req.params);
  const count = req.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new InvalidArgumentError('count', req.count, `an integer from 1 to ${MAX_COUNT}`);
  if (req.name !== undefined) validateDomainName(req.name);
  let targetPages: number | undefined;
  if (req.target !== undefined && req.target !== '') {
    const t = parseMemoryTarget(req.target);
    if ('warning' in t) ctx.logger.warn({ target: req.target }, t.warning);
    else targetPages = t.pages;
  }

  // Each clone's FIFO is the first thing its restore needs: its mkfifo runs alongside the checks.
  const uuids = Array.from({ length: count }, () => randomUUID());
  const fifos = uuids.map((u) => prepareFifo(ctx, u));
  for (const f of fifos) f.catch(() => undefined);
  let plans: ClonePlan[];
  try {
    plans = await checkAndReserve(ctx, blessedId, uuids, req.name, targetPages);
  } catch (e) {
    await Promise.allSettled(fifos);
    for (const u of uuids) await rm(ctx.layout.cloneRun(u), { recursive: true, force: true });
    throw e;
  }
  plans.forEach((p, i) => (p.fifo = fifos[i]));
  const done: CloneRecord[] = [];
  try {
    const m = ctx.manifests.read(blessedId)!;
    // The first clone's launch time counts from this call, checks and reservation included.
    for (const plan of plans) done.push(await launchOne(ctx, sourceOf(m), plan, params, done.length === 0 ? calledAt : performance.now()));
    return done;
  } catch (e) {
    for (const plan of plans) await removeClone(ctx, plan.dir, plan.uuid).catch((err: unknown) => ctx.logger.warn({ err, clone: plan.uuid }, 'cleanup after a failed launch'));
    throw e;
  } finally {
    // The next launch's FIFO, made now that this one no longer waits on Node's thread.
    await ctx.fifos.refill();
  }
}

async function checkAndReserve(ctx: VmsContext, blessedId: string, uuids: string[], name: string | undefined, targetPages: number | undefined): Promise<ClonePlan[]> {
  const m0 = ctx.manifests.read(blessedId);
  if (!m0 || m0.status !== 'blessed') {
    if (m0 || (await findDomain(ctx, blessedId))) {
      throw new InvalidStateError(`Instance ${blessedId} is not a live image. Please create a live image to launch from it.`, { id: blessedId });
    }
    throw notFound(blessedId);
  }
  for (const f of [m0.artifacts.state, ...(m0.artifacts.ram ? [m0.artifacts.ram] : []), ...m0.artifacts.disks.map((d) => d.path)]) {
    if (!existsSync(f)) throw new OperationFailedError(`Live image ${blessedId} is missing its artifact ${f}; discard it and bless again.`, { id: blessedId, missing: f });
  }

  return reserve(ctx, m0, uuids, name, targetPages);
}

async function reserve(ctx: VmsContext, m0: BlessedManifest, uuids: string[], name: string | undefined, targetPages: number | undefined): Promise<ClonePlan[]> {
  const lock = await FileLock.acquire(ctx.layout.lock(m0.id), 'launch', `Live image ${m0.id}`);
  try {
    const m = ctx.manifests.read(m0.id);
    if (!m || m.status !== 'blessed') throw new InvalidStateError(`Live image ${m0.id} is being discarded; launch from another one.`, { id: m0.id });
    const count = uuids.length;
    const plans: ClonePlan[] = [];
    for (let i = 1; i <= count; i++) {
      let cloneName: string;
      if (name !== undefined) cloneName = count === 1 ? name : `${name.slice(0, MAX_NAME_LENGTH - String(i).length - 1)}-${i}`;
      else {
        const k = m.lastLaunchNum + i;
        cloneName = `${m.name.slice(0, MAX_NAME_LENGTH - 7 - String(k).length)}-clone-${k}`;
      }
      validateDomainName(cloneName);
      if (plans.some((p) => p.name === cloneName) || (await findDomain(ctx, cloneName))) {
        throw new ConflictError(`An instance named ${JSON.stringify(cloneName)} already exists; launch with another --name.`, { name: cloneName });
      }
      const uuid = uuids[i - 1]!;
      plans.push({
        uuid,
        name: cloneName,
        hostname: hostnameFor(cloneName, `clone-${uuid.slice(0, 8)}`),
        macs: interfaceMacs(parseXml(m.xml)).map(() => randomMac()),
        dir: ctx.layout.cloneDir(m.id, uuid),
        ...(targetPages !== undefined ? { targetPages } : {}),
      });
    }
    if (name === undefined) m.lastLaunchNum += count;
    m.clones.push(...plans.map((p) => p.uuid));
    // A pending marker per clone: gc removes clones whose launching process died.
    for (const p of plans) {
      const dir = p.dir;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, 'pending.json'), JSON.stringify({ ...currentOwner(), at: new Date().toISOString() }), { mode: 0o600 });
    }
    ctx.manifests.write(m);
    return plans;
  } finally {
    lock.release();
  }
}

