import { existsSync, rmSync } from 'node:fs';
import { NotFoundError, type DestroyOptions, type InstanceRef } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import { volumeAttachments } from '../storage/attachments.js';
import { closeMediumQuietly } from '../storage/disks.js';
import { hardStop } from './power.js';

function removeFolder(ctx: DriverContext, uuid: string): void {
  const dir = ctx.paths.dir(uuid);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Nova's destroy, idempotent: a machine that is already gone is success. Volumes are detached and
 * closed first, because `unregistervm --delete` deletes every attached disk and a volume's data is not
 * the instance's to delete. Then power off, unregister (deleting the instance's own disks, snapshots,
 * settings and logs), remove the folder, give the VRDE port back.
 */
export async function destroyVm(ctx: DriverContext, ref: InstanceRef, options: DestroyOptions = {}): Promise<void> {
  const destroyDisks = options.destroyDisks !== false;
  const info = await ctx.vbox.findVm(ref.uuid);
  if (!info) {
    ctx.logger.debug({ uuid: ref.uuid }, 'destroy: no such machine; nothing to do');
  } else if (info.inaccessible) {
    // Its settings cannot be read, so neither can its disks be listed: unregister only.
    await ctx.vbox.run(['unregistervm', ref.uuid], { target: ref.name });
  } else {
    await hardStop(ctx, ref, info);
    const current = await ctx.vbox.showVmInfo(ref.uuid);
    for (const volume of volumeAttachments(current, ctx.paths)) {
      await ctx.vbox.run(['storageattach', ref.uuid, '--storagectl', volume.controller, '--port', String(volume.port), '--device', String(volume.device), '--medium', 'none'], {
        target: ref.name,
      });
      await closeMediumQuietly(ctx, volume.imageUuid ?? volume.location!);
    }
    try {
      await ctx.vbox.run(['unregistervm', ref.uuid, ...(destroyDisks ? ['--delete'] : [])], { target: ref.name, timeoutMs: ctx.settings.mediumTimeoutMs });
    } catch (e) {
      // Gone in the meantime (another process): that is what was asked.
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  if (destroyDisks) removeFolder(ctx, ref.uuid);
  ctx.vrde.release(ref.uuid);
}
