import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, InvalidStateError, PowerState, type ImageMeta, type InstanceRef, type SnapshotOptions } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { validateUuid } from '../xml/names.js';

/**
 * Snapshot: the root disk exported as a standalone qcow2 image that spawn can boot (with the same
 * kernel, initrd and cmdline). A running guest is first asked to flush (agent `sync`, best effort),
 * then paused for the copy, which makes it consistent: pausing QEMU drains and flushes its block
 * layer, so the qcow2 on disk is complete while `qemu-img convert -U` reads it; the guest continues
 * afterwards. Simpler than an external snapshot + blockcommit, and as correct for the guest's data.
 */
export async function snapshot(deps: LibvirtDriverDeps, ref: InstanceRef, options: SnapshotOptions): Promise<ImageMeta> {
  const uuid = validateUuid(ref.uuid);
  if (!options?.imageName || typeof options.imageName !== 'string') throw new InvalidArgumentError('snapshot imageName', options?.imageName, 'a non-empty name');
  const view = await deps.domains.view(uuid);
  if (view.metadata?.rescued) throw new InvalidStateError(`Instance ${ref.name} is in rescue mode; unrescue it before taking a snapshot.`);
  const root = view.spec.disks.find((d) => d.target === 'vda');
  if (!root || root.kind !== 'file') throw new InvalidStateError(`Instance ${ref.name} has no file root disk (vda) to snapshot.`);

  const id = randomUUID();
  const dest = options.path ?? deps.snapshots.pathFor(id);
  const state = await deps.domains.powerState(uuid);
  const live = state === PowerState.RUNNING || state === PowerState.PAUSED;
  let paused = false;
  if (state === PowerState.RUNNING) {
    await deps.agentFor(ref).request('sync', {}, { timeoutMs: 5_000 }).catch((e: unknown) =>
      deps.logger.debug({ uuid, err: (e as Error).message }, 'guest agent sync before snapshot failed; the copy is crash-consistent'),
    );
    await deps.transport.suspend(uuid);
    paused = true;
  }
  let size: number;
  try {
    options.onProgress?.(0);
    size = await deps.snapshots.export(root.path, dest, live);
  } finally {
    if (paused) await deps.transport.resume(uuid);
  }
  options.onProgress?.(1);
  const os = view.spec.os;
  deps.logger.info({ uuid, image: id, path: dest }, 'snapshot exported');
  return {
    id,
    name: options.imageName,
    diskFormat: 'qcow2',
    path: dest,
    ...(os.kernel ? { kernel: os.kernel } : {}),
    ...(os.initrd ? { initrd: os.initrd } : {}),
    ...(os.cmdline !== undefined ? { cmdline: os.cmdline } : {}),
    sizeBytes: size,
    properties: { source_instance: uuid, ...(view.metadata?.image ? { base_image_id: view.metadata.image.id } : {}) },
  };
}
