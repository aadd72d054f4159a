import { InvalidArgumentError, InvalidStateError, type Flavor, type InstanceRef } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import { growDisk } from '../storage/disks.js';
import { rootAttachment } from '../storage/attachments.js';
import { gracefulStop, hardStop, startVm } from './power.js';
import { ACTIVE_STATES, SAVED_STATES } from './state-map.js';

/**
 * Resize on the same host (nova-virtualbox's migrate_disk_and_power_off + finish_migration collapse to
 * this): VirtualBox changes memory and CPUs only while the machine is off, so a running guest is shut
 * down (gracefully, up to wait_soft_reboot_seconds), modified, its root disk grown if the flavor's is
 * larger, and started again. A suspended instance is refused: resizing would discard its saved state.
 */
export async function resize(ctx: DriverContext, ref: InstanceRef, flavor: Flavor): Promise<void> {
  if (!Number.isInteger(flavor.memoryMb) || flavor.memoryMb < 4) throw new InvalidArgumentError('flavor memoryMb', flavor.memoryMb, 'an integer >= 4');
  if (!Number.isInteger(flavor.vcpus) || flavor.vcpus < 1) throw new InvalidArgumentError('flavor vcpus', flavor.vcpus, 'an integer >= 1');
  let info = await ctx.vbox.showVmInfo(ref.uuid);
  if (SAVED_STATES.has(info.state)) {
    throw new InvalidStateError(`Cannot resize instance ${JSON.stringify(ref.name)} while it is suspended; resume or power it off first.`, {
      uuid: ref.uuid,
      state: info.state,
    });
  }
  const wasActive = ACTIVE_STATES.has(info.state);
  if (info.state === 'running' && info.acpi) {
    await gracefulStop(ctx, ref, ctx.settings.softRebootWaitMs, ctx.settings.retryIntervalMs || 1000);
    info = await ctx.vbox.showVmInfo(ref.uuid);
  }
  await hardStop(ctx, ref, info);
  await ctx.vbox.modifyVm(ref.uuid, ['--memory', String(flavor.memoryMb), '--cpus', String(flavor.vcpus)]);
  const root = rootAttachment(await ctx.vbox.showVmInfo(ref.uuid), ctx.paths);
  if (root?.location && flavor.rootGb > 0) await growDisk(ctx, root.imageUuid ?? root.location, flavor.rootGb);
  if (wasActive) await startVm(ctx, ref, await ctx.vbox.showVmInfo(ref.uuid));
}
