import { PowerState, type LifecycleTransition } from '@virtplug/core';
import { LifecycleEvents } from './events.js';

describe('LifecycleEvents', () => {
  const a = { uuid: 'a', name: 'vp-a' };

  it('emits out-of-band changes the poll sees, once, and not what the driver already reported', async () => {
    const seen: Array<[string, LifecycleTransition]> = [];
    let world = [{ ...a, state: PowerState.RUNNING }];
    const ev = new LifecycleEvents((i, t) => seen.push([i.name, t]), async () => world, 20);
    ev.start();
    await new Promise((r) => setTimeout(r, 50)); // first poll: records, emits nothing
    expect(seen).toEqual([]);
    world = [{ ...a, state: PowerState.SHUTDOWN }]; // the guest powered itself off
    await new Promise((r) => setTimeout(r, 60));
    ev.observe(a, PowerState.RUNNING); // the driver started it and says so
    world = [{ ...a, state: PowerState.RUNNING }];
    await new Promise((r) => setTimeout(r, 60));
    world = []; // undefined by someone else
    await new Promise((r) => setTimeout(r, 60));
    ev.stop();
    expect(seen).toEqual([
      ['vp-a', 'STOPPED'],
      ['vp-a', 'STARTED'],
      ['vp-a', 'STOPPED'],
    ]);
  });

  it('keeps polling after a failed poll', async () => {
    let calls = 0;
    const ev = new LifecycleEvents(() => undefined, async () => {
      calls++;
      throw new Error('libvirtd restarting');
    }, 10);
    ev.start();
    await new Promise((r) => setTimeout(r, 60));
    ev.stop();
    expect(calls).toBeGreaterThan(2);
  });
});
