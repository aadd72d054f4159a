// The library in a dozen lines: load a driver from configuration, boot, pause, inspect, delete.
// Run: node --import tsx docs/examples/library-basics.ts   (uses the in-memory fake driver)
import { randomUUID } from 'node:crypto';
import { loadDriver, powerStateName } from '@virtplug/core';

const driver = await loadDriver({ computeDriver: 'fake.FakeDriver' });
driver.onLifecycleEvent((e) => console.log(`event: ${e.name} ${e.transition}`));
const instance = { uuid: randomUUID(), name: 'web-1', flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 } };
await driver.spawn(instance, { id: 'cirros', name: 'cirros', diskFormat: 'qcow2', path: '/images/cirros.qcow2' });
await driver.pause(instance);
console.log(`${instance.name} is ${powerStateName((await driver.getInfo(instance)).state)}`);
await driver.destroy(instance);
console.log(`instances left: ${(await driver.listInstances()).length}`);
await driver.close();
