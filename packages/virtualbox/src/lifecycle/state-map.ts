import { PowerState } from '@virtplug/core';

/**
 * VMState (machine-readable) → Nova power state, per reference §8: running/starting run, paused is
 * paused, poweroff/aborted/teleported are shut down (nova-virtualbox mapped aborted to suspended, but an
 * aborted VM has no saved state to resume), saved/aborted-saved are suspended, a guru meditation is a
 * crash, transitional states and inaccessible machines have no state.
 */
const MAP: Record<string, PowerState> = {
  running: PowerState.RUNNING,
  starting: PowerState.RUNNING,
  livesnapshotting: PowerState.RUNNING,
  onlinesnapshotting: PowerState.RUNNING,
  paused: PowerState.PAUSED,
  deletingsnapshotlivepaused: PowerState.PAUSED,
  poweroff: PowerState.SHUTDOWN,
  aborted: PowerState.SHUTDOWN,
  teleported: PowerState.SHUTDOWN,
  saved: PowerState.SUSPENDED,
  'aborted-saved': PowerState.SUSPENDED,
  gurumeditation: PowerState.CRASHED,
};

export function powerStateOf(vmState: string): PowerState {
  return MAP[vmState] ?? PowerState.NOSTATE;
}

/** States in which the VM process runs (controlvm works, modifyvm is refused). */
export const ACTIVE_STATES = new Set(['running', 'paused', 'starting', 'stopping', 'livesnapshotting', 'onlinesnapshotting', 'gurumeditation', 'deletingsnapshotlive', 'deletingsnapshotlivepaused', 'teleporting', 'teleportingpausedvm']);

/** States with no VM process and no saved state: modifyvm and startvm work. */
export const OFF_STATES = new Set(['poweroff', 'aborted', 'teleported']);

export const SAVED_STATES = new Set(['saved', 'aborted-saved']);
