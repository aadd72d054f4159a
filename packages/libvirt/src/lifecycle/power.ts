import { InvalidStateError, PowerState, type InstanceRef, type PowerOffOptions, type RebootType } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { sleep } from '../transport/timeout.js';
import { validateUuid } from '../xml/names.js';

const ACTIVE = [PowerState.RUNNING, PowerState.PAUSED, PowerState.CRASHED, PowerState.NOSTATE];

/**
 * Asks the guest to shut down (ACPI power button), re-asking every `retryIntervalSec`, and waits up to
 * `timeoutSec` for it to be off. Returns whether it went down by itself (Nova's _clean_shutdown).
 */
export async function cleanShutdown(deps: LibvirtDriverDeps, ref: InstanceRef, timeoutSec: number, retryIntervalSec: number): Promise<boolean> {
  const uuid = validateUuid(ref.uuid);
  const deadline = Date.now() + timeoutSec * 1000;
  let nextRequest = 0;
  while (Date.now() < deadline) {
    const state = await deps.domains.powerState(uuid);
    if (state === PowerState.SHUTDOWN || state === PowerState.SUSPENDED) return true;
    if (state !== PowerState.RUNNING) return false; // a paused guest cannot react to the power button
    if (Date.now() >= nextRequest) {
      await deps.transport.shutdown(uuid).catch((e: unknown) => {
        if (!(e instanceof InvalidStateError)) throw e;
      });
      nextRequest = Date.now() + retryIntervalSec * 1000;
    }
    await sleep(250);
  }
  return (await deps.domains.powerState(uuid)) === PowerState.SHUTDOWN;
}

async function hardStop(deps: LibvirtDriverDeps, uuid: string): Promise<void> {
  await deps.transport.destroy(uuid).catch((e: unknown) => {
    if (!(e instanceof InvalidStateError)) throw e; // already off
  });
}

/** Power off: graceful first when a timeout is given (Nova), then pull the plug. Off already: no-op. */
export async function powerOff(deps: LibvirtDriverDeps, ref: InstanceRef, options: PowerOffOptions = {}): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const state = await deps.domains.powerState(uuid);
  if (state === PowerState.SHUTDOWN || state === PowerState.SUSPENDED) return;
  const timeoutSec = options.timeoutSec ?? deps.config.shutdown_timeout;
  const clean = timeoutSec > 0 && (await cleanShutdown(deps, ref, timeoutSec, options.retryIntervalSec ?? deps.config.shutdown_retry_interval));
  if (!clean) await hardStop(deps, uuid);
  deps.events.observe(ref, await deps.domains.waitFor(ref, [PowerState.SHUTDOWN], deps.config.op_timeout_seconds * 1000, 'power off'));
}

/** Power on: a stopped (or crashed) instance boots; a suspended one resumes; a paused one continues. */
export async function powerOn(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const state = await deps.domains.powerState(uuid);
  if (state === PowerState.RUNNING) return;
  if (state === PowerState.PAUSED) await deps.transport.resume(uuid);
  else {
    if (state === PowerState.CRASHED) await hardStop(deps, uuid);
    await deps.transport.start(uuid);
  }
  deps.events.observe(ref, await deps.domains.powerState(uuid));
}

/**
 * SOFT: ACPI shutdown, wait up to shutdown_timeout, start again (Nova's _soft_reboot); a guest that
 * does not go down in time gets a HARD reboot. HARD: destroy and start from the persistent definition
 * (any managed-save image is discarded, so the guest boots anew: a new boot id). Both end RUNNING.
 */
export async function reboot(deps: LibvirtDriverDeps, ref: InstanceRef, type: RebootType): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const state = await deps.domains.powerState(uuid);
  if (type === 'SOFT') {
    if (state !== PowerState.RUNNING) {
      throw new InvalidStateError(`Cannot soft-reboot instance ${ref.name}: it is not running; use a HARD reboot or power it on.`, { state });
    }
    if (await cleanShutdown(deps, ref, deps.config.shutdown_timeout, deps.config.shutdown_retry_interval)) {
      deps.events.observe(ref, PowerState.SHUTDOWN);
      await deps.transport.start(uuid);
      deps.events.observe(ref, await deps.domains.powerState(uuid));
      return;
    }
    deps.logger.warn({ uuid, name: ref.name }, 'guest did not shut down in time for a soft reboot; rebooting hard');
  }
  if (ACTIVE.includes(await deps.domains.powerState(uuid))) await hardStop(deps, uuid);
  if (await deps.domains.hasManagedSave(uuid)) await deps.transport.managedSaveRemove(uuid);
  deps.events.observe(ref, PowerState.SHUTDOWN);
  await deps.transport.start(uuid);
  deps.events.observe(ref, await deps.domains.powerState(uuid));
}

export async function pause(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  await deps.domains.require(ref, 'pause', [PowerState.RUNNING]);
  await deps.transport.suspend(uuid);
  deps.events.observe(ref, PowerState.PAUSED);
}

export async function unpause(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  await deps.domains.require(ref, 'unpause', [PowerState.PAUSED]);
  await deps.transport.resume(uuid);
  deps.events.observe(ref, PowerState.RUNNING);
}

/** Suspend = managed save (RAM to disk, QEMU exits); the domain then reads SUSPENDED. */
export async function suspend(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  await deps.domains.require(ref, 'suspend', [PowerState.RUNNING, PowerState.PAUSED]);
  await deps.transport.managedSave(uuid, { running: true });
  deps.events.observe(ref, PowerState.SUSPENDED);
}

/** Resume from managed save: starting the domain restores the image, and the guest continues. */
export async function resume(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  await deps.domains.require(ref, 'resume', [PowerState.SUSPENDED]);
  await deps.transport.start(uuid);
  deps.events.observe(ref, await deps.domains.powerState(uuid));
}
