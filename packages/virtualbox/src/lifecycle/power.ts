import { InvalidStateError, type InstanceRef, type PowerOffOptions } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import type { VmInfo } from '../vboxmanage/parse/vm-info.js';
import { parsePortSpec } from '../vrde/port-spec.js';
import { ACTIVE_STATES, OFF_STATES, SAVED_STATES } from './state-map.js';
import { waitForVm } from './wait.js';

/** startvm, re-taking a unique VRDE port first if power off gave it back. Retries VERR_INTERNAL_ERROR (nova-virtualbox). */
export async function startVm(ctx: DriverContext, ref: InstanceRef, info: VmInfo): Promise<void> {
  if (ctx.vrde.enabled && ctx.vrde.pool.unique && info.vrde.enabled && OFF_STATES.has(info.state)) {
    const port = await ctx.vrde.acquirePort(ref.uuid);
    const configured = info.vrde.ports ? parsePortSpec(info.vrde.ports) : [];
    if (configured.length !== 1 || configured[0] !== port) await ctx.vbox.modifyVm(ref.uuid, ['--vrdeport', String(port)]);
  }
  await ctx.vbox.run(['startvm', ref.uuid, '--type', 'headless'], { target: ref.name, retryOn: /VERR_INTERNAL_ERROR/ });
}

/** Pulls the plug (`controlvm poweroff`) or drops a saved state (`discardstate`); no-op when off. */
export async function hardStop(ctx: DriverContext, ref: InstanceRef, info: VmInfo): Promise<void> {
  if (SAVED_STATES.has(info.state)) {
    await ctx.vbox.run(['discardstate', ref.uuid], { target: ref.name });
  } else if (ACTIVE_STATES.has(info.state)) {
    await ctx.vbox.controlVm(ref.uuid, 'poweroff');
    // The session is unlocked asynchronously after poweroff returns; wait so the next modifyvm succeeds.
    await waitForVm(ctx, ref.uuid, (i) => OFF_STATES.has(i.state), ctx.settings.callTimeoutMs, 100);
  }
}

/**
 * Asks the guest to shut down (ACPI power button), re-sending every `intervalMs`, until it is off or
 * `timeoutMs` passed. Returns whether the guest went down by itself.
 */
export async function gracefulStop(ctx: DriverContext, ref: InstanceRef, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const resend = Math.max(100, intervalMs);
  for (;;) {
    const info = await ctx.vbox.showVmInfo(ref.uuid);
    if (OFF_STATES.has(info.state)) return true;
    if (info.state !== 'running' || !info.acpi) return false;
    if (Date.now() >= deadline) return false;
    try {
      await ctx.vbox.controlVm(ref.uuid, 'acpipowerbutton');
    } catch (e) {
      // The guest may have gone down between the state check and the button press.
      if (!(e instanceof InvalidStateError)) throw e;
    }
    const { reached } = await waitForVm(ctx, ref.uuid, (i) => OFF_STATES.has(i.state), Math.min(resend, Math.max(0, deadline - Date.now())), 100);
    if (reached) return true;
  }
}

function refuse(ref: InstanceRef, info: VmInfo, op: string, needs: string): never {
  throw new InvalidStateError(`Cannot ${op} instance ${JSON.stringify(ref.name)}: it is ${info.state}; ${needs}.`, {
    uuid: ref.uuid,
    state: info.state,
  });
}

export async function powerOff(ctx: DriverContext, ref: InstanceRef, options: PowerOffOptions = {}): Promise<void> {
  let info = await ctx.vbox.showVmInfo(ref.uuid);
  const timeoutMs = (options.timeoutSec ?? 0) * 1000;
  if (timeoutMs > 0 && info.state === 'running' && info.acpi) {
    const intervalMs = (options.retryIntervalSec ?? ctx.settings.virtualbox.retry_interval) * 1000;
    await gracefulStop(ctx, ref, timeoutMs, intervalMs);
    info = await ctx.vbox.showVmInfo(ref.uuid);
  }
  const wasOff = OFF_STATES.has(info.state);
  await hardStop(ctx, ref, info);
  const port = ctx.vrde.release(ref.uuid);
  if (port !== undefined) ctx.logger.debug({ uuid: ref.uuid, port }, 'VRDE port released');
  if (!wasOff) ctx.emit(ref, 'STOPPED');
}

export async function powerOn(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (info.state === 'running') return;
  if (info.state === 'paused') await ctx.vbox.controlVm(ref.uuid, 'resume');
  else if (info.state === 'gurumeditation') {
    await hardStop(ctx, ref, info);
    await startVm(ctx, ref, await ctx.vbox.showVmInfo(ref.uuid));
  } else if (OFF_STATES.has(info.state) || SAVED_STATES.has(info.state)) await startVm(ctx, ref, info);
  else refuse(ref, info, 'power on', 'wait for the current operation to finish');
  ctx.emit(ref, 'STARTED');
}

export async function pause(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (info.state === 'paused') return;
  if (info.state !== 'running') refuse(ref, info, 'pause', 'pause needs it running');
  await ctx.vbox.controlVm(ref.uuid, 'pause');
  ctx.emit(ref, 'PAUSED');
}

export async function unpause(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (info.state === 'running') return;
  if (info.state !== 'paused') refuse(ref, info, 'unpause', 'unpause needs it paused');
  await ctx.vbox.controlVm(ref.uuid, 'resume');
  ctx.emit(ref, 'RESUMED');
}

export async function suspend(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (SAVED_STATES.has(info.state)) return;
  if (info.state !== 'running' && info.state !== 'paused') refuse(ref, info, 'suspend', 'suspend needs it running or paused');
  await ctx.vbox.controlVm(ref.uuid, 'savestate');
  ctx.emit(ref, 'SUSPENDED');
}

export async function resume(ctx: DriverContext, ref: InstanceRef): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (info.state === 'running') return;
  if (info.state === 'paused') await ctx.vbox.controlVm(ref.uuid, 'resume');
  else if (SAVED_STATES.has(info.state)) await startVm(ctx, ref, info);
  else refuse(ref, info, 'resume', 'resume needs it suspended (use powerOn for a stopped instance)');
  ctx.emit(ref, 'RESUMED');
}
