import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, PowerState, UnsupportedOperationError, hasErrorCode, type VolumeConnectionInfo } from '@virtplug/core';
import { memoryDriver, removeMemoryDriverDirs } from '../test/support/memory-driver.js';
import { readDomain } from './xml/read.js';

afterAll(() => removeMemoryDriverDirs());

describe('LibvirtDriver logic (in-memory transport, fake qemu-img)', () => {
  it('spawns: overlay on a cached base, domain defined with our metadata, running, STARTED emitted', async () => {
    const { driver, transport, image, instance, events, dir } = memoryDriver();
    await driver.init();
    const inst = instance();
    const info = await driver.spawn({ ...inst, metadata: { owner: 'me' } }, image);
    expect(info).toMatchObject({ state: PowerState.RUNNING, vmState: 'active', vcpus: 1, maxMemKb: 262144 });
    const view = readDomain(await transport.getXml(inst.uuid, { secure: true }));
    expect(view.spec.disks[0]).toMatchObject({ kind: 'file', path: join(dir, 'instances', inst.uuid, 'disk.qcow2'), target: 'vda' });
    expect(view.spec.os.kernel).toMatch(new RegExp(`^${join(dir, 'images', '_base')}/img-1-[0-9a-f]{16}\\.kernel$`));
    expect(view.metadata).toMatchObject({ flavor: { name: 'm1.tiny' }, image: { id: 'img-1' }, extra: { owner: 'me' } });
    expect(view.spec.vnc?.password).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(await driver.listInstances()).toEqual([inst.name]);
    expect(events.map((e) => e.transition)).toEqual(['STARTED']);
    // A second instance of the same image reuses the cached base.
    await driver.spawn(instance(), image);
    expect(readdirSync(join(dir, 'images', '_base')).filter((f) => f.endsWith('.qcow2'))).toHaveLength(1);
  });

  it('lists only domains virtplug created', async () => {
    const { driver, transport, image, instance } = memoryDriver();
    await driver.init();
    await transport.define(`<domain type='qemu'><name>foreign</name><uuid>${randomUUID()}</uuid><memory>1024</memory><vcpu>1</vcpu></domain>`);
    const inst = instance();
    await driver.spawn(inst, image);
    expect(await driver.listInstances()).toEqual([inst.name]);
    expect(await driver.listInstanceUuids()).toEqual([inst.uuid]);
  });

  it('a spawn that fails after define leaves no domain and no instance directory', async () => {
    const { driver, transport, image, instance, dir } = memoryDriver();
    await driver.init();
    transport.start = async () => {
      throw new Error('QEMU exploded');
    };
    const inst = instance();
    await expect(driver.spawn(inst, image)).rejects.toThrow('QEMU exploded');
    expect(await driver.instanceExists(inst)).toBe(false);
    expect(existsSync(join(dir, 'instances', inst.uuid))).toBe(false);
  });

  it('a spawn from a missing image fails with not_found and creates nothing', async () => {
    const { driver, image, instance, dir } = memoryDriver();
    await driver.init();
    const inst = instance();
    const err = await driver.spawn(inst, { ...image, path: '/nonexistent/virtplug.qcow2' }).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'not_found')).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/virtplug.qcow2');
    expect(existsSync(join(dir, 'instances', inst.uuid))).toBe(false);
  });

  it('refuses a second instance with the same name or UUID', async () => {
    const { driver, image, instance } = memoryDriver();
    await driver.init();
    const inst = instance('vp-lv-same');
    await driver.spawn(inst, image);
    await expect(driver.spawn({ ...inst, uuid: randomUUID() }, image)).rejects.toBeInstanceOf(ConflictError);
    await expect(driver.spawn({ ...inst, name: 'vp-lv-other' }, image)).rejects.toBeInstanceOf(ConflictError);
  });

  it('destroy is idempotent and removes disks unless destroyDisks is false', async () => {
    const { driver, image, instance, dir, events } = memoryDriver();
    await driver.init();
    const a = instance();
    await driver.spawn(a, image);
    await driver.destroy(a);
    await driver.destroy(a);
    expect(existsSync(join(dir, 'instances', a.uuid))).toBe(false);
    expect(events.map((e) => e.transition)).toEqual(['STARTED', 'STOPPED']);
    const b = instance();
    await driver.spawn(b, image);
    await driver.destroy(b, { destroyDisks: false });
    expect(existsSync(join(dir, 'instances', b.uuid, 'disk.qcow2'))).toBe(true);
    expect(await driver.instanceExists(b)).toBe(false);
  });

  it('suspend uses managed save and reads SUSPENDED; resume reads RUNNING', async () => {
    const { driver, transport, image, instance, events } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    await driver.suspend(inst);
    expect(transport.calls).toContain(`managedsave ${inst.uuid}`);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.SUSPENDED);
    expect((await driver.getInfo(inst)).vmState).toBe('suspended');
    await driver.resume(inst);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.RUNNING);
    expect(events.map((e) => e.transition)).toEqual(['STARTED', 'SUSPENDED', 'RESUMED']);
    await expect(driver.resume(inst)).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('a soft reboot of a guest that ignores the power button falls back to a hard one', async () => {
    const { driver, transport, image, instance } = memoryDriver({ shutdown_timeout: 1 });
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    transport.shutdownBehaviour = 'ignore';
    transport.calls.length = 0;
    await driver.reboot(inst, 'SOFT');
    expect(transport.calls.filter((c) => !c.startsWith('shutdown'))).toEqual([`destroy ${inst.uuid}`, `start ${inst.uuid}`]);
    expect(transport.calls.some((c) => c.startsWith('shutdown'))).toBe(true);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.RUNNING);
  });

  it('power off waits for a clean shutdown, then pulls the plug', async () => {
    const { driver, transport, image, instance } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    transport.shutdownBehaviour = 'ignore';
    await driver.powerOff(inst, { timeoutSec: 1, retryIntervalSec: 1 });
    expect(transport.calls).toContain(`destroy ${inst.uuid}`);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.SHUTDOWN);
    await driver.powerOff(inst); // already off: no-op
    await driver.powerOn(inst);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.RUNNING);
  });

  it('pause refuses a stopped instance with invalid_state', async () => {
    const { driver, image, instance } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image, { powerOn: false });
    await expect(driver.pause(inst)).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('an unknown instance is not found; a malformed UUID is an invalid argument', async () => {
    const { driver } = memoryDriver();
    await driver.init();
    await expect(driver.getInfo({ uuid: randomUUID(), name: 'ghost' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(driver.getInfo({ uuid: '../../etc/passwd', name: 'ghost' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('attaches iSCSI with CHAP through a libvirt secret; the password never reaches XML or logs', async () => {
    const { driver, transport, image, instance, logs } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    const ci: VolumeConnectionInfo = {
      driverVolumeType: 'iscsi',
      volumeId: 'vol-1',
      data: { targetPortal: '127.0.0.1:3260', targetIqn: 'iqn.2026-11.dev.virtplug:lv-unit', targetLun: 1, authMethod: 'CHAP', authUsername: 'u', authPassword: 'S3cr3t-pw' },
    };
    await driver.attachVolume(inst, ci, '/dev/vdb');
    const usage = `virtplug/${inst.uuid}/vol-1`;
    expect(transport.secretValue(usage)).toBe('S3cr3t-pw');
    const live = await transport.getXml(inst.uuid, { secure: true });
    expect(live).not.toContain('S3cr3t-pw');
    const disk = readDomain(live).spec.disks.find((d) => d.target === 'vdb');
    expect(disk).toMatchObject({ kind: 'network', protocol: 'iscsi', sourceName: 'iqn.2026-11.dev.virtplug:lv-unit/1', auth: { username: 'u', secretUsage: usage }, serial: 'vol-1' });
    expect(readDomain(await transport.getXml(inst.uuid, { inactive: true })).spec.disks.map((d) => d.target)).toEqual(['vda', 'vdb']);
    await expect(driver.attachVolume(inst, ci, '/dev/vdb')).rejects.toBeInstanceOf(ConflictError);
    await driver.detachVolume(inst, ci, '/dev/vdb');
    expect(transport.secretValue(usage)).toBeUndefined();
    expect(readDomain(await transport.getXml(inst.uuid)).spec.disks.map((d) => d.target)).toEqual(['vda']);
    expect(logs.join('\n')).not.toContain('S3cr3t-pw');
    expect(logs.join('\n')).toContain('volume attached');
  });

  it('resize rewrites memory, vCPUs and the flavor in metadata, and restarts a running guest', async () => {
    const { driver, transport, image, instance } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    await driver.resize(inst, { name: 'm1.small', memoryMb: 384, vcpus: 2, rootGb: 0 });
    const info = await driver.getInfo(inst);
    expect(info).toMatchObject({ state: PowerState.RUNNING, maxMemKb: 384 * 1024, vcpus: 2 });
    expect(readDomain(await transport.getXml(inst.uuid)).metadata?.flavor?.name).toBe('m1.small');
  });

  it('rescue boots a rescue disk with the root disk on vdb; unrescue restores the original', async () => {
    const { driver, transport, image, instance } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    await driver.rescue(inst);
    const rescued = readDomain(await transport.getXml(inst.uuid));
    expect((await driver.getInfo(inst)).vmState).toBe('rescued');
    expect(rescued.spec.disks.map((d) => [d.target, d.kind === 'file' ? d.path.split('/').pop() : ''])).toEqual([['vda', 'rescue.qcow2'], ['vdb', 'disk.qcow2']]);
    await expect(driver.rescue(inst)).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(driver.snapshot(inst, { imageName: 'x' })).rejects.toMatchObject({ code: 'invalid_state' });
    await driver.unrescue(inst);
    const back = readDomain(await transport.getXml(inst.uuid));
    expect((await driver.getInfo(inst)).vmState).toBe('active');
    expect(back.spec.disks.map((d) => d.target)).toEqual(['vda']);
  });

  it('snapshot pauses a running guest for the copy and returns a bootable image with the same kernel', async () => {
    const { driver, transport, image, instance, runner } = memoryDriver();
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    transport.calls.length = 0;
    const snap = await driver.snapshot(inst, { imageName: 'snap-1' });
    expect(transport.calls).toEqual([`suspend ${inst.uuid}`, `resume ${inst.uuid}`]);
    expect(runner.calls.some((c) => c[1] === 'convert' && c.includes('-U'))).toBe(true);
    expect(snap).toMatchObject({ name: 'snap-1', diskFormat: 'qcow2', cmdline: 'console=ttyS0' });
    expect(existsSync(snap.path)).toBe(true);
    expect((await driver.spawn(instance(), snap)).state).toBe(PowerState.RUNNING);
  });

  it("on libvirt's test driver, operations it cannot do are refused up front as unsupported", async () => {
    const { driver } = memoryDriver({ connection_uri: 'test:///default' });
    await expect(driver.suspend({ uuid: randomUUID(), name: 'ghost' })).rejects.toBeInstanceOf(UnsupportedOperationError);
    await expect(driver.attachVolume({ uuid: randomUUID(), name: 'ghost' }, { driverVolumeType: 'file', volumeId: 'v', data: { path: '/x' } }, 'vdb')).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
    expect(driver.capabilities['operation.pause']?.status).toBe('complete');
  });
});
