import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PowerState, type ImageMeta, type Instance, type LifecycleEvent } from '@virtplug/core';
import { Harness, writeQcow2 } from './helpers/harness.js';

/** Lifecycle paths the contract does not reach: failures, fallbacks, cleanup and state rules. */
describe('VirtualBox driver lifecycle (replay harness)', () => {
  let h: Harness;
  let image: ImageMeta;
  beforeEach(() => {
    h = new Harness();
    image = { id: 'img', name: 'img', diskFormat: 'qcow2', path: writeQcow2(join(h.root, 'img.qcow2')) };
  });
  afterEach(() => h.cleanup());

  const instance = (name = `vp-life-${randomUUID().slice(0, 6)}`): Instance => ({ uuid: randomUUID(), name, flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 1 } });
  const commands = () => h.runner.calls.map((c) => c.slice(1, 2).concat(c[1] === 'controlvm' || c[1] === 'snapshot' ? [c[3]!] : []).join(' '));

  it('spawn builds the machine step by step, addressed by UUID', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    expect(commands()).toEqual([
      'showvminfo', 'createvm', 'modifyvm', 'storagectl', 'list', 'clonemedium', 'closemedium', 'createmedium',
      'showmediuminfo', 'modifymedium', 'storageattach', 'setextradata', 'showvminfo', 'startvm', 'showvminfo',
    ]);
    const createvm = h.runner.find('createvm')[0]!;
    expect(createvm).toEqual(['createvm', '--name', i.name, '--uuid', i.uuid, '--basefolder', join(h.instances, i.uuid), '--ostype', 'Linux_64', '--register']);
    for (const call of h.runner.calls.slice(1)) if (!['createvm', 'list', 'clonemedium', 'closemedium', 'createmedium', 'showmediuminfo', 'modifymedium'].includes(call[1]!)) expect(call[2]).toBe(i.uuid);
    const modify = h.runner.find('modifyvm')[0]!;
    expect(modify.slice(0, 6)).toEqual(['modifyvm', i.uuid, '--memory', '128', '--cpus', '1']);
    expect(modify).toEqual(expect.arrayContaining(['--nic1', 'nat', '--uart1', '0x3F8', '4', '--uartmode1', 'file', join(h.instances, i.uuid, 'console.log')]));
    expect(h.runner.find('modifymedium')[0]).toEqual(['modifymedium', 'disk', join(h.instances, i.uuid, 'root.vdi'), '--resize', '1024']);
  });

  it('copy-on-write roots share one cached base; use_cow_images = false copies the image', async () => {
    const driver = h.driver();
    await driver.spawn(instance(), image, { powerOn: false });
    await driver.spawn(instance(), image, { powerOn: false });
    expect(h.runner.find('clonemedium')).toHaveLength(1);
    expect(h.runner.find('createmedium').map((c) => c.includes('--diffparent'))).toEqual([true, true]);
    const full = h.driver({}, {}, { use_cow_images: 'false' });
    h.runner.clear();
    const i = instance();
    await full.spawn(i, image, { powerOn: false });
    expect(h.runner.find('createmedium')).toHaveLength(0);
    expect(h.runner.find('clonemedium')[0]).toEqual(['clonemedium', 'disk', image.path, join(h.instances, i.uuid, 'root.vdi'), '--format', 'VDI']);
  });

  it('retries VERR_INTERNAL_ERROR on start; when it persists, spawn fails and removes everything', async () => {
    const driver = h.driver();
    h.faults([{ command: 'startvm', error: 'internal', times: 1 }]);
    const ok = instance();
    expect((await driver.spawn(ok, image)).state).toBe(PowerState.RUNNING);
    h.faults([{ command: 'startvm', error: 'internal' }]);
    const bad = instance();
    const err = await driver.spawn(bad, image).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'operation_failed', message: expect.stringMatching(/VERR_INTERNAL_ERROR/) });
    expect(h.runner.find('startvm', bad.uuid)).toHaveLength(3);
    expect(h.runner.find('unregistervm', bad.uuid)).toEqual([['unregistervm', bad.uuid, '--delete']]);
    expect(h.state().vms[bad.uuid]).toBeUndefined();
    expect(existsSync(join(h.instances, bad.uuid))).toBe(false);
    expect(Object.values(h.state().media).filter((m: any) => m.location.includes(bad.uuid))).toEqual([]);
  });

  it('soft reboot: a guest that shuts down is started again; one that ignores ACPI is reset after the wait', async () => {
    const driver = h.driver({ wait_soft_reboot_seconds: '1' });
    const i = instance();
    await driver.spawn(i, image);
    await driver.reboot(i, 'SOFT');
    expect(commands().filter((c) => /startvm|controlvm/.test(c))).toEqual(['startvm', 'controlvm acpipowerbutton', 'startvm']);
    h.control({ acpi: 'ignore' });
    h.runner.clear();
    const started = Date.now();
    await driver.reboot(i, 'SOFT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(commands().filter((c) => c.startsWith('controlvm')).at(-1)).toBe('controlvm reset');
    expect((await driver.getInfo(i)).state).toBe(PowerState.RUNNING);
    const boots = readFileSync(join(h.instances, i.uuid, 'console.log'), 'utf8').match(/virtplug: boot \d+/g);
    expect(boots).toEqual(['virtplug: boot 1', 'virtplug: boot 2', 'virtplug: boot 3']);
  });

  it('hard reboot ends running from every state', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    for (const prepare of [() => driver.pause(i), () => driver.suspend(i), () => driver.powerOff(i), async () => undefined]) {
      await prepare();
      await driver.reboot(i, 'HARD');
      expect((await driver.getInfo(i)).state).toBe(PowerState.RUNNING);
    }
  });

  it('power off asks the guest first and pulls the plug when it does not go down', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    h.control({ acpi: 'ignore' });
    h.runner.clear();
    await driver.powerOff(i, { timeoutSec: 3, retryIntervalSec: 0.3 });
    const sent = commands().filter((c) => c.startsWith('controlvm'));
    expect(sent.filter((c) => c === 'controlvm acpipowerbutton').length).toBeGreaterThanOrEqual(2);
    expect(sent.at(-1)).toBe('controlvm poweroff');
    expect((await driver.getInfo(i)).state).toBe(PowerState.SHUTDOWN);
  });

  it('refuses operations that need another state, with the state in the message; repeats are no-ops', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image, { powerOn: false });
    await expect(driver.pause(i)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/it is poweroff; pause needs it running/) });
    await expect(driver.resume(i)).rejects.toMatchObject({ code: 'invalid_state' });
    await driver.powerOn(i);
    await driver.suspend(i);
    await driver.suspend(i);
    await expect(driver.resize(i, { name: 'x', memoryMb: 256, vcpus: 1, rootGb: 1 })).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/suspended/) });
    expect((await driver.getInfo(i)).state).toBe(PowerState.SUSPENDED);
  });

  it('emits lifecycle events', async () => {
    const driver = h.driver();
    const seen: LifecycleEvent['transition'][] = [];
    driver.onLifecycleEvent((e) => seen.push(e.transition));
    const i = instance();
    await driver.spawn(i, image);
    await driver.pause(i);
    await driver.unpause(i);
    await driver.suspend(i);
    await driver.resume(i);
    await driver.powerOff(i);
    expect(seen).toEqual(['STARTED', 'PAUSED', 'RESUMED', 'SUSPENDED', 'RESUMED', 'STOPPED']);
  });

  it('snapshot: the exported image holds the disk as the guest left it, boots, and the VM keeps no snapshot', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    const bootId = (readFileSync(join(h.instances, i.uuid, 'console.log'), 'utf8').match(/boot_id=(\S+)/) ?? [])[1]!;
    const progress: number[] = [];
    const snap = await driver.snapshot(i, { imageName: 'vp-snap', onProgress: (f) => progress.push(f) });
    expect(snap).toMatchObject({ name: 'vp-snap', diskFormat: 'vdi', path: join(h.images, 'vp-snap.vdi') });
    expect(readFileSync(snap.path).includes(`boot ${bootId} ${i.name}`)).toBe(true);
    expect(progress).toEqual([0, 0.2, 0.8, 1]);
    expect(h.runner.find('snapshot', i.uuid, 'take')[0]).toEqual(['snapshot', i.uuid, 'take', expect.stringMatching(/^virtplug-\d+$/), '--live']);
    expect(h.state().vms[i.uuid].snapshots).toEqual([]);
    expect(Object.values(h.state().media).some((m: any) => m.location === snap.path)).toBe(false);
    await expect(driver.snapshot(i, { imageName: 'vp-snap' })).rejects.toMatchObject({ code: 'conflict' });
    const copy = instance();
    expect((await driver.spawn(copy, snap)).state).toBe(PowerState.RUNNING);
  });

  it("destroy detaches volumes first, so unregistervm --delete never deletes a volume's data", async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    const vol = join(h.root, 'data.vdi');
    await driver.ctx.vbox.run(['createmedium', 'disk', '--filename', vol, '--size', '8']);
    await driver.ctx.vbox.run(['closemedium', 'disk', vol]);
    await driver.attachVolume(i, { driverVolumeType: 'file', volumeId: 'v', data: { path: vol } }, '/dev/sdd');
    expect(h.state().vms[i.uuid].attachments['SATA-3-0']).toBeDefined();
    await expect(driver.attachVolume(i, { driverVolumeType: 'file', volumeId: 'v', data: { path: vol } }, '/dev/sde')).rejects.toMatchObject({ code: 'conflict' });
    await driver.destroy(i);
    expect(existsSync(vol)).toBe(true);
    expect(h.runner.find('storageattach', i.uuid).at(-1)).toEqual(['storageattach', i.uuid, '--storagectl', 'SATA', '--port', '3', '--device', '0', '--medium', 'none']);
  });

  it('refuses raw file volumes and unknown transports clearly', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image, { powerOn: false });
    await expect(driver.attachVolume(i, { driverVolumeType: 'file', volumeId: 'r', data: { path: image.path, format: 'raw' } }, '/dev/sdb')).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/convertfromraw/),
    });
    await expect(driver.attachVolume(i, { driverVolumeType: 'nbd', volumeId: 'n', data: { host: 'h', port: 1 } }, '/dev/sdb')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(driver.detachVolume(i, { driverVolumeType: 'file', volumeId: 'x', data: { path: '/nope.vdi' } }, '/dev/sdb')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('rescue boots the rescue disk first with the root disk second, and unrescue restores the layout', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    const root = join(h.instances, i.uuid, 'root.vdi');
    await driver.rescue(i);
    let info = await driver.ctx.vbox.showVmInfo(i.uuid);
    expect(info.attachments.filter((a) => a.location).map((a) => [a.port, a.location])).toEqual([[0, join(h.instances, i.uuid, 'rescue.vdi')], [1, root]]);
    expect(await driver.getInfo(i)).toMatchObject({ vmState: 'rescued', state: PowerState.RUNNING });
    await expect(driver.rescue(i)).rejects.toMatchObject({ code: 'invalid_state' });
    await driver.unrescue(i);
    info = await driver.ctx.vbox.showVmInfo(i.uuid);
    expect(info.attachments.filter((a) => a.location).map((a) => [a.port, a.location])).toEqual([[0, root]]);
    expect(existsSync(join(h.instances, i.uuid, 'rescue.vdi'))).toBe(false);
    expect((await driver.getInfo(i)).vmState).toBe('active');
    await expect(driver.unrescue(i)).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('an <inaccessible> machine: listed by UUID only, reported in error, destroyable', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image, { powerOn: false });
    h.control({ inaccessible: [i.uuid] });
    expect(await driver.listInstances()).not.toContain(i.name);
    expect(await driver.listInstanceUuids()).toContain(i.uuid);
    expect(await driver.getInfo(i)).toMatchObject({ state: PowerState.NOSTATE, vmState: 'error' });
    await driver.destroy(i);
    expect(h.runner.find('unregistervm', i.uuid)).toEqual([['unregistervm', i.uuid]]);
    expect(await driver.instanceExists(i)).toBe(false);
  });

  it('a machine deleted between calls: getInfo is not found, destroy succeeds', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image, { powerOn: false });
    h.faults([{ command: 'showvminfo', error: 'notfound' }]);
    await expect(driver.getInfo(i)).rejects.toMatchObject({ code: 'not_found' });
    await expect(driver.destroy(i)).resolves.toBeUndefined();
  });

  it('the driver never races itself: concurrent operations on one machine are serialised', async () => {
    const driver = h.driver();
    const i = instance();
    await driver.spawn(i, image);
    await Promise.all([driver.pause(i), driver.suspend(i), driver.getInfo(i), driver.resume(i)]);
    expect((await driver.getInfo(i)).state).toBe(PowerState.RUNNING);
    const order = h.runner.calls.map((c) => c.slice(1).join(' ')).filter((c) => /^controlvm|^startvm/.test(c));
    expect(order).toEqual([`startvm ${i.uuid} --type headless`, `controlvm ${i.uuid} pause`, `controlvm ${i.uuid} savestate`, `startvm ${i.uuid} --type headless`]);
  });
});
