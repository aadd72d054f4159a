/** Nova's power states (nova/compute/power_state.py): the hypervisor is the authority on these. */
export enum PowerState {
  NOSTATE = 0,
  RUNNING = 1,
  PAUSED = 3,
  SHUTDOWN = 4,
  CRASHED = 6,
  SUSPENDED = 7,
}

export const POWER_STATE_NAMES: Record<PowerState, string> = {
  [PowerState.NOSTATE]: 'pending',
  [PowerState.RUNNING]: 'running',
  [PowerState.PAUSED]: 'paused',
  [PowerState.SHUTDOWN]: 'shutdown',
  [PowerState.CRASHED]: 'crashed',
  [PowerState.SUSPENDED]: 'suspended',
};

export function powerStateName(state: PowerState): string {
  return POWER_STATE_NAMES[state] ?? 'pending';
}

/** Nova's vm_states, plus VMS's `blessed`. */
export type VmState =
  | 'active'
  | 'building'
  | 'paused'
  | 'suspended'
  | 'stopped'
  | 'rescued'
  | 'resized'
  | 'soft-delete'
  | 'deleted'
  | 'error'
  | 'shelved'
  | 'shelved_offloaded'
  | 'blessed';

/** What vm_state a bare power state implies when the driver knows nothing more. */
export function vmStateFor(power: PowerState, rescued = false): VmState {
  if (rescued) return 'rescued';
  switch (power) {
    case PowerState.RUNNING:
      return 'active';
    case PowerState.PAUSED:
      return 'paused';
    case PowerState.SUSPENDED:
      return 'suspended';
    case PowerState.SHUTDOWN:
      return 'stopped';
    case PowerState.CRASHED:
      return 'error';
    default:
      return 'building';
  }
}
