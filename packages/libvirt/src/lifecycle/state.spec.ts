import { PowerState } from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import { powerStateOf, transitionFor, vmStateOf } from './state.js';

describe('libvirt state → Nova power state', () => {
  it.each([
    [DomainState.NOSTATE, false, PowerState.NOSTATE],
    [DomainState.RUNNING, false, PowerState.RUNNING],
    [DomainState.BLOCKED, false, PowerState.RUNNING],
    [DomainState.PAUSED, false, PowerState.PAUSED],
    [DomainState.SHUTDOWN, false, PowerState.SHUTDOWN],
    [DomainState.SHUTOFF, false, PowerState.SHUTDOWN],
    [DomainState.SHUTOFF, true, PowerState.SUSPENDED],
    [DomainState.CRASHED, false, PowerState.CRASHED],
    [DomainState.PMSUSPENDED, false, PowerState.SUSPENDED],
  ])('%s (managed save: %s) → %s', (state, saved, expected) => {
    expect(powerStateOf(state, saved)).toBe(expected);
  });

  it('vm state follows power state, and rescue wins', () => {
    expect(vmStateOf(PowerState.RUNNING, false)).toBe('active');
    expect(vmStateOf(PowerState.SUSPENDED, false)).toBe('suspended');
    expect(vmStateOf(PowerState.CRASHED, false)).toBe('error');
    expect(vmStateOf(PowerState.RUNNING, true)).toBe('rescued');
  });

  it.each([
    [undefined, PowerState.RUNNING, 'STARTED'],
    [PowerState.SHUTDOWN, PowerState.RUNNING, 'STARTED'],
    [PowerState.PAUSED, PowerState.RUNNING, 'RESUMED'],
    [PowerState.SUSPENDED, PowerState.RUNNING, 'RESUMED'],
    [PowerState.RUNNING, PowerState.PAUSED, 'PAUSED'],
    [PowerState.RUNNING, PowerState.SUSPENDED, 'SUSPENDED'],
    [PowerState.RUNNING, PowerState.SHUTDOWN, 'STOPPED'],
    [PowerState.RUNNING, undefined, 'STOPPED'],
    [PowerState.RUNNING, PowerState.RUNNING, undefined],
    [undefined, PowerState.SHUTDOWN, undefined],
  ])('%s → %s emits %s', (prev, next, t) => {
    expect(transitionFor(prev, next)).toBe(t);
  });
});
