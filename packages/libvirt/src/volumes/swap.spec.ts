import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PowerState, type VolumeConnectionInfo } from '@virtplug/core';
import { memoryDriver, removeMemoryDriverDirs } from '../../test/support/memory-driver.js';
import { readDomain } from '../xml/read.js';

afterAll(() => removeMemoryDriverDirs());

type FileCi = Extract<VolumeConnectionInfo, { driverVolumeType: 'file' }>;
const fileCi = (dir: string, id: string, create = true): FileCi => {
  const path = join(dir, `${id}.raw`);
  if (create) writeFileSync(path, '');
  return { driverVolumeType: 'file', volumeId: id, data: { path, format: 'raw' } };
};
const chapCi = (id: string, password: string): VolumeConnectionInfo => ({
  driverVolumeType: 'iscsi',
  volumeId: id,
  data: { targetPortal: '127.0.0.1:3260', targetIqn: `iqn.2026-11.dev.virtplug:${id}`, targetLun: 1, authMethod: 'CHAP', authUsername: 'u', authPassword: password },
});

async function running() {
  const env = memoryDriver();
  await env.driver.init();
  const inst = env.instance();
  await env.driver.spawn(inst, env.image);
  const disk = async (inactive = false) => readDomain(await env.transport.getXml(inst.uuid, { inactive, secure: true })).spec.disks.find((d) => d.target === 'vdb');
  return { ...env, inst, disk };
}

describe('swapVolume (in-memory transport)', () => {
  it('copies onto the new volume with a transient pivoting block copy; live and persistent definitions name it', async () => {
    const { driver, transport, dir, inst, disk } = await running();
    const a = fileCi(dir, 'vol-a');
    const b = fileCi(dir, 'vol-b');
    await driver.attachVolume(inst, a, '/dev/vdb');
    await driver.swapVolume(inst, a, b, '/dev/vdb');
    expect(transport.calls).toContain(`blockcopy ${inst.uuid} vdb`);
    // The guest keeps its device (serial included) while the new volume serves it.
    expect(await disk()).toMatchObject({ kind: 'file', path: b.data.path, serial: 'vol-a' });
    expect(await disk(true)).toMatchObject({ kind: 'file', path: b.data.path, serial: 'vol-b' });
    await expect(driver.detachVolume(inst, a, '/dev/vdb')).rejects.toMatchObject({ code: 'invalid_argument' });
    await driver.detachVolume(inst, b, '/dev/vdb');
    expect(await disk()).toBeUndefined();
  });

  it('makes the new CHAP secret before the copy and removes the old one after', async () => {
    const { driver, transport, dir, inst, disk } = await running();
    const a = chapCi('vol-c1', 'pw-old');
    const b = chapCi('vol-c2', 'pw-new');
    await driver.attachVolume(inst, a, '/dev/vdb');
    await driver.swapVolume(inst, a, b, '/dev/vdb');
    expect(transport.secretValue(`virtplug/${inst.uuid}/vol-c1`)).toBeUndefined();
    expect(transport.secretValue(`virtplug/${inst.uuid}/vol-c2`)).toBe('pw-new');
    expect(await disk(true)).toMatchObject({ kind: 'network', sourceName: 'iqn.2026-11.dev.virtplug:vol-c2/1', auth: { secretUsage: `virtplug/${inst.uuid}/vol-c2` } });
    const c = fileCi(dir, 'vol-f');
    await driver.swapVolume(inst, b, c, '/dev/vdb');
    expect(transport.secretValue(`virtplug/${inst.uuid}/vol-c2`)).toBeUndefined();
    expect(await disk()).toMatchObject({ kind: 'file', path: c.data.path });
  });

  it('refuses clearly before copying: wrong old volume, empty mountpoint, same or missing new volume, shut-off instance', async () => {
    const { driver, transport, dir, inst } = await running();
    const a = fileCi(dir, 'vol-a');
    const b = fileCi(dir, 'vol-b');
    await expect(driver.swapVolume(inst, a, b, '/dev/vdb')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('nothing is attached there') });
    await driver.attachVolume(inst, a, '/dev/vdb');
    await expect(driver.swapVolume(inst, b, fileCi(dir, 'vol-c'), '/dev/vdb')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining(a.data.path) });
    await expect(driver.swapVolume(inst, a, a, '/dev/vdb')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(driver.swapVolume(inst, a, fileCi(dir, 'vol-none', false), '/dev/vdb')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('vol-none.raw') });
    await driver.attachVolume(inst, b, '/dev/vdc');
    await expect(driver.swapVolume(inst, a, b, '/dev/vdb')).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('vdc') });
    await driver.powerOff(inst, { timeoutSec: 0 });
    expect((await driver.getInfo(inst)).state).toBe(PowerState.SHUTDOWN);
    await expect(driver.swapVolume(inst, a, fileCi(dir, 'vol-d'), '/dev/vdb')).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('running or paused') });
    expect(transport.calls.filter((c) => c.startsWith('blockcopy'))).toEqual([]);
  });

  it('a failing copy is aborted: the old volume stays, the new CHAP secret is gone', async () => {
    const { driver, transport, dir, inst, disk } = await running();
    const a = fileCi(dir, 'vol-a');
    await driver.attachVolume(inst, a, '/dev/vdb');
    transport.blockCopyFailure = 'Copy failed';
    const err = await driver.swapVolume(inst, a, chapCi('vol-c3', 'pw'), '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'operation_failed', message: expect.stringContaining('keeps running with the old volume') });
    expect(transport.calls).toContain(`blockjob-abort ${inst.uuid} vdb`);
    expect(await disk()).toMatchObject({ kind: 'file', path: a.data.path });
    expect(await disk(true)).toMatchObject({ kind: 'file', path: a.data.path, serial: 'vol-a' });
    expect(await transport.secretList()).toEqual([]);
    expect((await driver.getInfo(inst)).state).toBe(PowerState.RUNNING);
  });
});
