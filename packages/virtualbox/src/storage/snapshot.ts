import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidStateError, type ImageMeta, type InstanceRef, type SnapshotOptions } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import { parseCreatedUuid } from '../vboxmanage/parse/created.js';
import { rootAttachment } from './attachments.js';
import { closeMediumQuietly } from './disks.js';

/**
 * Nova's snapshot: the root disk as a standalone, bootable image. A VirtualBox snapshot freezes the
 * current root medium (`snapshot take --live` keeps the guest running), `clonemedium` flattens that
 * medium and its parents into one VDI, and the VirtualBox snapshot is deleted again, merging the
 * differencing image back. The exported VDI is closed so it is a plain file that spawn can boot.
 */
export async function snapshotToImage(ctx: DriverContext, ref: InstanceRef, options: SnapshotOptions): Promise<ImageMeta> {
  const target = options.path ? resolve(options.path) : ctx.paths.imageExport(options.imageName);
  if (existsSync(target)) throw new ConflictError(`Snapshot target ${target} already exists; choose another image name or path.`, { path: target });
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  const root = rootAttachment(info, ctx.paths);
  if (!root?.location) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} has no root disk to snapshot.`, { uuid: ref.uuid });
  const frozen = root.imageUuid ?? root.location;
  options.onProgress?.(0);
  const name = `virtplug-${Date.now()}`;
  const live = info.state === 'running' || info.state === 'paused';
  const taken = await ctx.vbox.run(['snapshot', ref.uuid, 'take', name, ...(live ? ['--live'] : [])], { target: ref.name });
  const snapshotId = parseCreatedUuid(taken.stdout) ?? name;
  options.onProgress?.(0.2);
  let cloneUuid: string | undefined;
  try {
    mkdirSync(dirname(target), { recursive: true });
    const { stdout } = await ctx.vbox.run(['clonemedium', 'disk', frozen, target, '--format', 'VDI'], {
      target,
      timeoutMs: ctx.settings.mediumTimeoutMs,
    });
    cloneUuid = parseCreatedUuid(stdout);
    options.onProgress?.(0.8);
  } catch (e) {
    if (existsSync(target)) {
      await closeMediumQuietly(ctx, target, true);
      rmSync(target, { force: true });
    }
    throw e;
  } finally {
    await ctx.vbox.run(['snapshot', ref.uuid, 'delete', snapshotId], { target: ref.name, timeoutMs: ctx.settings.mediumTimeoutMs });
  }
  await closeMediumQuietly(ctx, cloneUuid ?? target);
  options.onProgress?.(1);
  return {
    id: cloneUuid ?? randomUUID(),
    name: options.imageName,
    diskFormat: 'vdi',
    path: target,
    sizeBytes: statSync(target).size,
    properties: { source_instance: ref.uuid },
  };
}
