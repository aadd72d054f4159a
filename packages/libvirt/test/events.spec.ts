import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Instance, LifecycleEvent } from '@virtplug/core';
import type { LibvirtDriver } from '../src/driver.js';
import { LIVE_URI, destroyDomains, guestImage, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';

/** Lifecycle events on the live daemon: from the driver's own calls and from changes made behind its back. */
const state = stateDir('events');
let driver: LibvirtDriver;
const inst: Instance = { uuid: randomUUID(), name: `vp-lv-events-${randomUUID().slice(0, 6)}`, flavor: { name: 'm1.tiny', memoryMb: 128, vcpus: 1, rootGb: 0 } };
const virsh = (...args: string[]) => execFileSync('virsh', ['-c', LIVE_URI, ...args], { stdio: 'pipe' });

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI, event_poll_interval: 0.2 }, state);
  await driver.init();
});
afterAll(async () => {
  await driver.destroy(inst).catch(() => undefined);
  destroyDomains(LIVE_URI, [inst.uuid]);
  await driver.close();
  rmSync(state, { recursive: true, force: true });
});

async function until(events: LifecycleEvent[], n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (events.filter((e) => e.uuid === inst.uuid).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

it('emits STARTED/STOPPED for out-of-band virsh start/destroy, and once per change for its own calls', async () => {
  const events: LifecycleEvent[] = [];
  await driver.spawn(inst, guestImage(), { powerOn: false });
  const off = driver.onLifecycleEvent((e) => events.push(e));
  await new Promise((r) => setTimeout(r, 500)); // the first poll records the current state
  virsh('start', inst.uuid);
  await until(events, 1);
  virsh('destroy', inst.uuid);
  await until(events, 2);
  await driver.powerOn(inst);
  await new Promise((r) => setTimeout(r, 600)); // polls see RUNNING too; nothing more must be emitted
  await driver.destroy(inst);
  await until(events, 4);
  off();
  // Other suites' domains may change meanwhile: only ours counts.
  expect(events.filter((e) => e.uuid === inst.uuid).map((e) => [e.uuid, e.transition])).toEqual([
    [inst.uuid, 'STARTED'],
    [inst.uuid, 'STOPPED'],
    [inst.uuid, 'STARTED'],
    [inst.uuid, 'STOPPED'],
  ]);
}, 60_000);
