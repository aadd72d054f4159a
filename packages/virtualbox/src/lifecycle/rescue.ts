import { InvalidArgumentError, InvalidStateError, type ImageMeta, type InstanceRef, type RescueOptions } from '@virtplug/core';
import { EXTRADATA_IMAGE, SATA, SATA_PORTS, type DriverContext } from '../context.js';
import { isRescued, rootAttachment, usedPorts } from '../storage/attachments.js';
import { closeMediumQuietly, createDiskFromImage } from '../storage/disks.js';
import { hardStop, startVm } from './power.js';

function attachArgs(uuid: string, port: number, medium: string): string[] {
  return ['storageattach', uuid, '--storagectl', SATA, '--port', String(port), '--device', '0', '--type', 'hdd', '--medium', medium];
}

function detachArgs(uuid: string, port: number): string[] {
  return ['storageattach', uuid, '--storagectl', SATA, '--port', String(port), '--device', '0', '--medium', 'none'];
}

async function rescueImage(ctx: DriverContext, ref: InstanceRef, options: RescueOptions): Promise<ImageMeta> {
  if (options.image) return options.image;
  const stored = await ctx.vbox.getExtraData(ref.uuid, EXTRADATA_IMAGE);
  if (!stored) throw new InvalidArgumentError('rescue image', undefined, 'options.image (the instance has no recorded boot image)');
  return JSON.parse(stored) as ImageMeta;
}

/**
 * Rescue: boot a fresh disk made from the rescue image (default: the instance's own image) on SATA
 * port 0, with the instance's root disk moved to the first free port so the rescue system can repair it.
 */
export async function rescue(ctx: DriverContext, ref: InstanceRef, options: RescueOptions = {}): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (isRescued(info, ctx.paths)) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} is already in rescue; unrescue it first.`, { uuid: ref.uuid });
  const root = rootAttachment(info, ctx.paths);
  if (!root?.location) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} has no root disk to rescue.`, { uuid: ref.uuid });
  const image = await rescueImage(ctx, ref, options);
  const rescueDisk = ctx.paths.rescueDisk(ref.uuid);
  const rootPort = [...Array(SATA_PORTS).keys()].find((p) => p > 0 && !usedPorts(info).has(p));
  if (rootPort === undefined) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} has no free SATA port for its root disk during rescue.`);
  await createDiskFromImage(ctx, image, rescueDisk);
  try {
    await hardStop(ctx, ref, info);
  } catch (e) {
    await closeMediumQuietly(ctx, rescueDisk, true);
    throw e;
  }
  const rootMedium = root.imageUuid ?? root.location;
  await ctx.vbox.run(detachArgs(ref.uuid, 0), { target: ref.name });
  try {
    await ctx.vbox.run(attachArgs(ref.uuid, 0, rescueDisk), { target: ref.name });
    await ctx.vbox.run(attachArgs(ref.uuid, rootPort, rootMedium), { target: ref.name });
  } catch (e) {
    // Put the root disk back where it was so the instance still boots.
    await ctx.vbox.run(detachArgs(ref.uuid, 0), { target: ref.name }).catch(() => undefined);
    await ctx.vbox.run(attachArgs(ref.uuid, 0, rootMedium), { target: ref.name });
    await closeMediumQuietly(ctx, rescueDisk, true);
    throw e;
  }
  await startVm(ctx, ref, await ctx.vbox.showVmInfo(ref.uuid));
}

/** Unrescue: drop the rescue disk, put the root disk back on port 0, boot it. */
export async function unrescue(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (!isRescued(info, ctx.paths)) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} is not in rescue.`, { uuid: ref.uuid });
  const root = rootAttachment(info, ctx.paths);
  if (!root?.location) throw new InvalidStateError(`Instance ${JSON.stringify(ref.name)} lost its root disk during rescue.`, { uuid: ref.uuid });
  await hardStop(ctx, ref, info);
  await ctx.vbox.run(detachArgs(ref.uuid, root.port), { target: ref.name });
  await ctx.vbox.run(detachArgs(ref.uuid, 0), { target: ref.name });
  await ctx.vbox.run(attachArgs(ref.uuid, 0, root.imageUuid ?? root.location), { target: ref.name });
  await closeMediumQuietly(ctx, ctx.paths.rescueDisk(ref.uuid), true);
  await startVm(ctx, ref, await ctx.vbox.showVmInfo(ref.uuid));
}
