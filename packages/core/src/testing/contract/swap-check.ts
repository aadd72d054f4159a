import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ComputeDriver } from '../../driver/compute-driver.js';
import { VirtplugError } from '../../errors.js';
import type { Instance } from '../../model/index.js';
import type { VolumeFixture } from './options.js';

/**
 * Nova's swap_volume: attach A, swap to B at the same mountpoint. Where the fixtures can look, the
 * guest's data moved to B, the guest still reads it on the same device, and its next write lands on B,
 * not on A. Either way the attachment is B's afterwards: detaching A is refused, detaching B works.
 */
export async function swapCheck(driver: ComputeDriver, instance: Instance, make: () => Promise<VolumeFixture>): Promise<void> {
  const a = await make();
  let b: VolumeFixture | undefined;
  let attached: VolumeFixture | undefined;
  const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
  try {
    b = await make();
    await driver.attachVolume(instance, a.connectionInfo, a.mountpoint);
    attached = a;
    const before = randomBytes(4096);
    const after = randomBytes(4096);
    if (a.guestWrite) {
      await a.guestWrite(instance, 12288, before);
      if (a.readBacking) assert.ok(same(await a.readBacking(12288, 4096), before), 'the guest write did not reach volume A before the swap');
    }
    await driver.swapVolume(instance, a.connectionInfo, b.connectionInfo, a.mountpoint);
    attached = b;
    if (a.guestWrite && b.readBacking) assert.ok(same(await b.readBacking(12288, 4096), before), "volume B's backing store does not hold A's data after the swap");
    if (a.guestWrite && a.guestRead) assert.ok(same(await a.guestRead(instance, 12288, 4096), before), 'after the swap the guest no longer reads its data on the same device');
    if (a.guestWrite && b.readBacking) {
      await a.guestWrite(instance, 20480, after);
      assert.ok(same(await b.readBacking(20480, 4096), after), 'a guest write after the swap did not land on volume B');
      if (a.readBacking) assert.ok(!same(await a.readBacking(20480, 4096), after), 'a guest write after the swap still landed on volume A');
    }
    const refused = await driver.detachVolume(instance, a.connectionInfo, a.mountpoint).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof VirtplugError, `detaching the old volume after the swap should be refused, got ${String(refused)}`);
    await driver.detachVolume(instance, b.connectionInfo, a.mountpoint);
    attached = undefined;
  } finally {
    if (attached) await driver.detachVolume(instance, attached.connectionInfo, a.mountpoint).catch(() => undefined);
    await b?.cleanup?.();
    await a.cleanup?.();
  }
}
