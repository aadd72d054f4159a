import { PowerState, vmStateFor, type LifecycleTransition, type VmState } from '@virtplug/core';
import { DomainState } from '../transport/port.js';

/**
 * libvirt domain state → Nova power state (nova/virt/libvirt/driver.py LIBVIRT_POWER_STATE), plus one
 * rule of ours: a shut-off domain with a managed-save image is SUSPENDED, because `virsh start` will
 * resume it where it was (that is what our suspend does).
 */
export function powerStateOf(state: DomainState, hasManagedSave = false): PowerState {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
      return PowerState.RUNNING;
    case DomainState.PAUSED:
      return PowerState.PAUSED;
    case DomainState.SHUTDOWN:
      return PowerState.SHUTDOWN;
    case DomainState.SHUTOFF:
      return hasManagedSave ? PowerState.SUSPENDED : PowerState.SHUTDOWN;
    case DomainState.CRASHED:
      return PowerState.CRASHED;
    case DomainState.PMSUSPENDED:
      return PowerState.SUSPENDED;
    default:
      return PowerState.NOSTATE;
  }
}

export function vmStateOf(power: PowerState, rescued: boolean): VmState {
  return vmStateFor(power, rescued);
}

/** The lifecycle event for a change of power state, or none (Nova's virt event names). */
export function transitionFor(prev: PowerState | undefined, next: PowerState | undefined): LifecycleTransition | undefined {
  if (prev === next) return undefined;
  if (next === undefined) return prev === PowerState.SHUTDOWN || prev === undefined ? undefined : 'STOPPED';
  switch (next) {
    case PowerState.RUNNING:
      return prev === PowerState.PAUSED || prev === PowerState.SUSPENDED ? 'RESUMED' : 'STARTED';
    case PowerState.PAUSED:
      return 'PAUSED';
    case PowerState.SUSPENDED:
      return 'SUSPENDED';
    case PowerState.SHUTDOWN:
    case PowerState.CRASHED:
      return prev === undefined ? undefined : 'STOPPED';
    default:
      return undefined;
  }
}
