import { stat } from 'node:fs/promises';
import {
  ConflictError,
  HypervisorUnavailableError,
  InvalidArgumentError,
  InvalidStateError,
  LockedError,
  NotFoundError,
  OperationFailedError,
  PowerState,
  TimeoutError,
  powerStateName,
  redactConnectionInfo,
  type InstanceRef,
  type VolumeConnectionInfo,
} from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { diskElement } from '../xml/build.js';
import type { DiskSpec } from '../xml/domain-spec.js';
import { validateUuid } from '../xml/names.js';
import { child, cloneXml, elements, isElement, parseXml, serializeXml } from '../xml/tree.js';
import { diskSpecFor, sameVolume, targetOf } from './disk-spec.js';
import { ensureChapSecret, removeSecret } from './secrets.js';

/** A copy moves the whole volume; one libvirt call's timeout is far too short for that. */
const copyTimeoutMs = (deps: LibvirtDriverDeps) => Math.max(600, deps.config.op_timeout_seconds * 10) * 1000;

const describe = (d: DiskSpec) => (d.kind === 'file' ? d.path : `${d.protocol}://${d.hosts[0]?.name}:${d.hosts[0]?.port}/${d.sourceName ?? ''}`);
const usageOf = (d: DiskSpec) => (d.kind === 'network' ? d.auth?.secretUsage : undefined);

/**
 * Nova's swap_volume: the disk at `mountpoint` (which must be the volume `oldCi` describes) is copied
 * onto the new volume with a libvirt block copy and pivoted, so the running guest keeps the same device
 * with the same contents, now served by the new volume; the persistent definition names the new volume.
 * Any backend pair the driver attaches works (file, NBD, iSCSI with or without CHAP), as long as both
 * volumes have the same size (QEMU's mirror requires it). Block copy needs a live disk, so shut-off and
 * suspended instances are refused. On failure the job is aborted and the old volume stays attached.
 */
export async function swapVolume(deps: LibvirtDriverDeps, ref: InstanceRef, oldCi: VolumeConnectionInfo, newCi: VolumeConnectionInfo, mountpoint: string): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const target = targetOf(mountpoint);
  const iqn = await deps.initiatorIqn();
  const old = diskSpecFor(uuid, oldCi, mountpoint, { initiatorIqn: iqn, cache: undefined });
  const next = diskSpecFor(uuid, newCi, mountpoint, { initiatorIqn: iqn, cache: deps.config.disk_cachemodes });
  if (oldCi.volumeId === newCi.volumeId || sameVolume(next, old)) {
    throw new InvalidArgumentError('new volume for swap', newCi.volumeId, `a volume other than the one being replaced (${oldCi.volumeId}, ${describe(old)})`);
  }
  const state = await deps.domains.powerState(uuid);
  if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) {
    throw new InvalidStateError(
      `Cannot swap the volume at ${mountpoint} of ${ref.name} while it is ${powerStateName(state)}: the swap copies the live disk with a libvirt block copy, so the instance must be running or paused. Power it on first, or detach the old volume and attach the new one.`,
      { state: powerStateName(state), uuid },
    );
  }
  const live = await deps.domains.view(uuid);
  const present = live.spec.disks.find((d) => d.target === target);
  if (!present) throw new NotFoundError('Volume attachment', `${ref.name}:${mountpoint}`, 'nothing is attached there');
  if (!sameVolume(present, old)) {
    throw new InvalidArgumentError(`old volume at ${mountpoint} of ${ref.name}`, oldCi.volumeId, `the connection info of the volume attached there (${describe(present)})`);
  }
  const elsewhere = live.spec.disks.find((d) => d.target !== target && sameVolume(d, next));
  if (elsewhere) throw new ConflictError(`The new volume ${newCi.volumeId} (${describe(next)}) is already attached to ${ref.name} as ${elsewhere.target}; detach it first.`, { mountpoint });
  if (next.kind === 'file') await checkFileVolume(deps, uuid, target, next.path);

  const oldUsage = usageOf(old);
  const newUsage = usageOf(next);
  if (newUsage && newCi.driverVolumeType === 'iscsi') await ensureChapSecret(deps, newUsage, newCi.data.authPassword ?? '');
  try {
    await copyAndPivot(deps, ref, uuid, target, old, next);
    await persistOrSwapBack(deps, ref, uuid, target, old, next);
  } catch (e) {
    const now = await diskAt(deps, uuid, target).catch(() => undefined);
    if (newUsage && !(now && sameVolume(now, next))) await removeSecret(deps, newUsage).catch(() => undefined);
    throw e;
  }
  if (oldUsage) await removeSecret(deps, oldUsage).catch(() => undefined);
  deps.logger.info({ uuid, mountpoint, old: redactConnectionInfo(oldCi), new: redactConnectionInfo(newCi) }, 'volume swapped');
}

async function diskAt(deps: LibvirtDriverDeps, uuid: string, target: string): Promise<DiskSpec | undefined> {
  return (await deps.domains.view(uuid)).spec.disks.find((d) => d.target === target);
}

/** The new file must exist (we reuse it, never create it) and have the guest disk's size. */
async function checkFileVolume(deps: LibvirtDriverDeps, uuid: string, target: string, path: string): Promise<void> {
  if (!(await stat(path).then((s) => s.isFile() || s.isBlockDevice(), () => false))) {
    throw new NotFoundError('Volume file', path, 'create the new volume (same size as the old one) before swapping to it');
  }
  const stats = await deps.transport.domstats(uuid).catch(() => ({}) as Record<string, string>);
  const index = Object.keys(stats).find((k) => /^block\.\d+\.name$/.test(k) && stats[k] === target)?.split('.')[1];
  const capacity = index === undefined ? NaN : Number(stats[`block.${index}.capacity`]);
  if (!Number.isFinite(capacity)) return; // unknown here: QEMU still refuses a mismatch, after which we roll back
  const size = (await deps.qemuImg.info(path)).virtualSize;
  if (size !== capacity) {
    throw new InvalidArgumentError(`size of the new volume ${path}`, `${size} bytes`, `${capacity} bytes, the size of the disk at ${target} (QEMU's block copy needs equal sizes)`);
  }
}

/** Copy, pivot, and check where the disk ended up; a failure aborts the job and proves the old volume is still in place. */
async function copyAndPivot(deps: LibvirtDriverDeps, ref: InstanceRef, uuid: string, target: string, old: DiskSpec, next: DiskSpec): Promise<void> {
  const destXml = serializeXml(diskElement(next));
  let failure: unknown;
  try {
    await deps.transport.blockCopy(uuid, target, destXml, { reuseExternal: true, transientJob: true, pivot: true, timeoutMs: copyTimeoutMs(deps) });
  } catch (e) {
    failure = e;
    await deps.transport.blockJobAbort(uuid, target).catch(() => undefined);
  }
  const now = await diskAt(deps, uuid, target);
  if (now && sameVolume(now, next)) return; // pivoted, even if virsh was stopped after it
  if (failure === undefined) {
    throw new OperationFailedError(`Block copy of ${target} of ${ref.name} reported success, but the disk is ${now ? describe(now) : 'gone'}, not ${describe(next)}.`, { uuid, target });
  }
  const where = now && sameVolume(now, old) ? `${ref.name} keeps running with the old volume (${describe(old)}) at ${target}` : `the disk at ${target} is now ${now ? describe(now) : 'gone'}; check the instance`;
  const message = failure instanceof Error ? failure.message : String(failure);
  if (failure instanceof TimeoutError || failure instanceof LockedError || failure instanceof HypervisorUnavailableError) throw failure;
  throw new OperationFailedError(
    `Swapping ${describe(old)} for ${describe(next)} at ${target} of ${ref.name} failed: ${message}. The copy was aborted; ${where}. The new volume must exist, be reachable from this host and have exactly the old volume's size.`,
    { uuid, target },
    { cause: failure },
  );
}

/**
 * The persistent definition names the new volume (source, auth and serial), keeping the device's
 * address so a restart shows it where it was. Should that fail, the guest is copied back onto the old
 * volume, so no half state remains: live and persistent both name the old one.
 */
async function persistOrSwapBack(deps: LibvirtDriverDeps, ref: InstanceRef, uuid: string, target: string, old: DiskSpec, next: DiskSpec): Promise<void> {
  try {
    await persist(deps, uuid, target, next);
  } catch (e) {
    await copyAndPivot(deps, ref, uuid, target, next, old).catch((back: unknown) => {
      throw new OperationFailedError(
        `The swap at ${target} of ${ref.name} pivoted to ${describe(next)}, but neither saving the persistent definition (${(e as Error).message}) nor copying back to ${describe(old)} (${(back as Error).message}) worked; the instance now runs on the new volume.`,
        { uuid, target },
        { cause: e },
      );
    });
    throw new OperationFailedError(`Could not save the swap at ${target} of ${ref.name} in the persistent definition (${(e as Error).message}); the guest was copied back and runs on the old volume.`, { uuid, target }, { cause: e });
  }
}

async function persist(deps: LibvirtDriverDeps, uuid: string, target: string, next: DiskSpec): Promise<void> {
  const tree = parseXml(await deps.transport.getXml(uuid, { inactive: true, secure: true }));
  const devices = child(tree, 'devices');
  const current = devices && elements(devices, 'disk').find((d) => child(d, 'target')?.attrs.dev === target);
  if (!devices || !current) return; // attached live only: nothing persistent names the old volume
  const replacement = diskElement(next);
  for (const keep of ['address', 'boot']) {
    const k = child(current, keep);
    if (k) replacement.children.push(cloneXml(k));
  }
  devices.children = devices.children.map((c) => (isElement(c) && c === current ? replacement : c));
  await deps.transport.define(serializeXml(tree));
}
