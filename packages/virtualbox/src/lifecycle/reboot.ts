import type { InstanceRef, RebootType } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import { gracefulStop, hardStop, startVm } from './power.js';
import { ACTIVE_STATES, OFF_STATES, SAVED_STATES } from './state-map.js';

/**
 * Nova's reboot: it must end running whatever the starting state.
 * SOFT: ACPI power button, re-sent every retry_interval, up to wait_soft_reboot_seconds; a guest that
 * shut down is started again, one that ignored the button is reset. Without ACPI it is a reset.
 * HARD: `controlvm reset` when running; otherwise power off (or drop the saved state) and start.
 */
export async function reboot(ctx: DriverContext, ref: InstanceRef, type: RebootType): Promise<void> {
  let info = await ctx.vbox.showVmInfo(ref.uuid);
  if (type === 'SOFT' && info.state === 'paused') {
    await ctx.vbox.controlVm(ref.uuid, 'resume');
    info = await ctx.vbox.showVmInfo(ref.uuid);
  }
  if (type === 'SOFT' && info.state === 'running') {
    if (info.acpi) {
      const interval = ctx.settings.retryIntervalMs > 0 ? ctx.settings.retryIntervalMs : 1000;
      const down = await gracefulStop(ctx, ref, ctx.settings.softRebootWaitMs, interval);
      info = await ctx.vbox.showVmInfo(ref.uuid);
      if (down && OFF_STATES.has(info.state)) {
        await startVm(ctx, ref, info);
        return;
      }
      ctx.logger.warn({ uuid: ref.uuid, waitedSec: ctx.settings.virtualbox.wait_soft_reboot_seconds }, 'guest ignored the ACPI power button; resetting');
    }
    if (info.state === 'running') {
      await ctx.vbox.controlVm(ref.uuid, 'reset');
      return;
    }
  }
  if (info.state === 'running') {
    await ctx.vbox.controlVm(ref.uuid, 'reset');
    return;
  }
  if (ACTIVE_STATES.has(info.state) || SAVED_STATES.has(info.state)) {
    await hardStop(ctx, ref, info);
    info = await ctx.vbox.showVmInfo(ref.uuid);
  }
  await startVm(ctx, ref, info);
}
