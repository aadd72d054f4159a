import { FakeDriver } from './fake-driver.js';
import { PowerState } from '../model/states.js';
import type { LifecycleEvent } from '../model/events.js';

const image = { id: 'i', name: 'i', diskFormat: 'qcow2' as const, path: '/i.qcow2' };
const flavor = { name: 'f', memoryMb: 128, vcpus: 1, rootGb: 1 };

describe('FakeDriver state rules', () => {
  it('refuses transitions Nova refuses, naming the state', async () => {
    const d = new FakeDriver();
    const inst = { uuid: 'u1', name: 'a', flavor };
    await d.spawn(inst, image, { powerOn: false });
    expect((await d.getInfo(inst)).state).toBe(PowerState.SHUTDOWN);
    await expect(d.pause(inst)).rejects.toThrow('Cannot pause instance a while it is shutdown; it must be running.');
    await expect(d.reboot(inst, 'SOFT')).rejects.toMatchObject({ code: 'invalid_state' });
    await d.reboot(inst, 'HARD');
    expect((await d.getInfo(inst)).state).toBe(PowerState.RUNNING);
  });

  it('emits lifecycle events and refuses duplicate names', async () => {
    const d = new FakeDriver();
    const events: LifecycleEvent[] = [];
    const off = d.onLifecycleEvent((e) => events.push(e));
    const inst = { uuid: 'u2', name: 'b', flavor };
    await d.spawn(inst, image);
    await d.pause(inst);
    await d.unpause(inst);
    off();
    await d.destroy(inst);
    expect(events.map((e) => e.transition)).toEqual(['STARTED', 'PAUSED', 'RESUMED']);
    await d.spawn(inst, image);
    await expect(d.spawn({ ...inst, uuid: 'u3' }, image)).rejects.toMatchObject({ code: 'conflict' });
  });
});
