import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PowerState, type Instance, type VolumeConnectionInfo } from '@virtplug/core';
import type { LibvirtDriver } from '../src/driver.js';
import { waitForAgent } from '../src/contract/guest.js';
import { rawFile } from '../src/contract/file-volume.js';
import { readDomain } from '../src/xml/read.js';
import { LIVE_URI, destroyDomains, guestImage, makeDriver, requireLibvirtd } from './helpers/env.js';
import { freePort, TgtDaemon } from './helpers/tgt.js';
import { swapHooks } from './helpers/volumes.js';

/**
 * swapVolume on real libvirtd + QEMU (TCG), one guest: refusals, rollback of failing copies (the guest
 * keeps running on the old volume, no job or secret left over), and swaps across backends that survive
 * a power cycle. Everything created here is named vp-swap-…
 */
const state = mkdtempSync('/var/tmp/vp-swap-');
const dir = join(state, 'volumes');
const tgt = new TgtDaemon();
const inst: Instance = { uuid: randomUUID(), name: `vp-swap-${randomBytes(3).toString('hex')}`, flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 } };
let driver: LibvirtDriver;
const MARK = randomBytes(4096);

type Vol = { ci: VolumeConnectionInfo; backing: string; hooks: ReturnType<typeof swapHooks> };
const fileVol = (bytes?: number): Vol => {
  const volumeId = `vp-swap-f${randomBytes(3).toString('hex')}`;
  const backing = rawFile(dir, `${volumeId}.raw`, bytes);
  return { ci: { driverVolumeType: 'file', volumeId, data: { path: backing, format: 'raw' } }, backing, hooks: swapHooks(() => driver, volumeId, backing) };
};
const chapVol = (passwordOverride?: string): Vol => {
  const volumeId = `vp-swap-c${randomBytes(3).toString('hex')}`;
  const creds = { user: `vps${randomBytes(3).toString('hex')}`, password: randomBytes(9).toString('base64url') };
  const t = tgt.createTarget(dir, creds);
  const data = { targetPortal: `127.0.0.1:${tgt.port}`, targetIqn: t.iqn, targetLun: 1, authMethod: 'CHAP' as const, authUsername: creds.user, authPassword: passwordOverride ?? creds.password };
  return { ci: { driverVolumeType: 'iscsi', volumeId, data }, backing: t.backing, hooks: swapHooks(() => driver, volumeId, t.backing) };
};
const disk = async (inactive = false) => readDomain(await driver.internals().transport.getXml(inst.uuid, { inactive })).spec.disks.find((d) => d.target === 'vdb');
const secretsOf = async (v: Vol) => (await driver.internals().transport.secretList()).filter((s) => s.usage.endsWith(`/${v.ci.volumeId}`));
const backingHas = async (v: Vol) => Buffer.from(await v.hooks.readBacking!(8192, MARK.length)).equals(MARK);

/** The state a failed swap must leave: running, the old volume live and persistent, no block job, data readable. */
async function expectStillOn(v: Vol): Promise<void> {
  expect((await driver.getInfo(inst)).state).toBe(PowerState.RUNNING);
  expect(await disk()).toMatchObject({ kind: 'file', path: v.backing });
  expect(await disk(true)).toMatchObject({ kind: 'file', path: v.backing });
  expect(execFileSync('virsh', ['-c', LIVE_URI, 'blockjob', inst.uuid, 'vdb', '--info']).toString()).toMatch(/No current block job/);
  expect(Buffer.from(await v.hooks.guestRead!(inst, 8192, MARK.length)).equals(MARK)).toBe(true);
}

beforeAll(async () => {
  requireLibvirtd();
  execFileSync('mkdir', ['-p', dir]);
  await tgt.start();
  driver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
  await driver.spawn(inst, guestImage());
  await waitForAgent(driver, inst);
}, 180_000);

afterAll(async () => {
  await driver?.destroy(inst).catch(() => undefined);
  destroyDomains(LIVE_URI, [inst.uuid]);
  for (const s of (await driver?.internals().transport.secretList().catch(() => [])) ?? []) {
    if (s.usage.includes(inst.uuid)) await driver.internals().transport.secretUndefine(s.uuid).catch(() => undefined);
  }
  await driver?.close();
  await tgt.stop();
  rmSync(state, { recursive: true, force: true });
}, 60_000);

describe('libvirt swapVolume (live)', () => {
  const a = () => vols.a!;
  const vols: { a?: Vol } = {};

  it('refuses a wrong old volume or an empty mountpoint clearly, touching nothing', async () => {
    vols.a = fileVol();
    const other = fileVol();
    const b = fileVol();
    await expect(driver.swapVolume(inst, a().ci, b.ci, '/dev/vdb')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('nothing is attached there') });
    await driver.attachVolume(inst, a().ci, '/dev/vdb');
    await a().hooks.guestWrite!(inst, 8192, MARK);
    const err = await driver.swapVolume(inst, other.ci, b.ci, '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_argument' });
    expect((err as Error).message).toContain(other.ci.volumeId);
    expect((err as Error).message).toContain(a().backing);
    await expectStillOn(a());
  }, 120_000);

  it('a new volume of another size is refused before copying (QEMU would fail the mirror)', async () => {
    const big = fileVol(32 << 20);
    const err = await driver.swapVolume(inst, a().ci, big.ci, '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('16777216 bytes') });
    await expectStillOn(a());
  }, 120_000);

  it('a copy that fails inside libvirt (NBD server not there) is aborted: the guest runs on the old volume', async () => {
    const port = await freePort();
    const ghost: VolumeConnectionInfo = { driverVolumeType: 'nbd', volumeId: 'vp-swap-ghost', data: { host: '127.0.0.1', port, exportName: 'vp-swap-ghost' } };
    const err = await driver.swapVolume(inst, a().ci, ghost, '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'operation_failed', message: expect.stringContaining('keeps running with the old volume') });
    await expectStillOn(a());
  }, 120_000);

  it('a CHAP target that refuses the login fails the swap and leaves no new secret behind', async () => {
    const bad = chapVol('not-the-password');
    const err = await driver.swapVolume(inst, a().ci, bad.ci, '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'operation_failed' });
    expect((err as Error).message).toMatch(/Authentication failure/i);
    expect((err as Error).message).not.toContain('not-the-password');
    expect(await secretsOf(bad)).toEqual([]);
    await expectStillOn(a());
  }, 120_000);

  it('file → iSCSI with CHAP: the data moves, the guest keeps its device, and a power cycle keeps the new volume', async () => {
    const b = chapVol();
    await driver.swapVolume(inst, a().ci, b.ci, '/dev/vdb');
    expect(await backingHas(b)).toBe(true);
    expect(await disk()).toMatchObject({ kind: 'network', protocol: 'iscsi', sourceName: `${(b.ci.data as { targetIqn: string }).targetIqn}/1`, serial: a().ci.volumeId });
    expect(await disk(true)).toMatchObject({ kind: 'network', protocol: 'iscsi', serial: b.ci.volumeId });
    expect(Buffer.from(await a().hooks.guestRead!(inst, 8192, MARK.length)).equals(MARK)).toBe(true);
    expect(await secretsOf(b)).toHaveLength(1);

    await driver.powerOff(inst, { timeoutSec: 20, retryIntervalSec: 5 });
    await driver.powerOn(inst);
    await waitForAgent(driver, inst);
    // After the restart the guest sees the new volume under its own serial, with the data.
    expect(Buffer.from(await b.hooks.guestRead!(inst, 8192, MARK.length)).equals(MARK)).toBe(true);

    // And back to a file while paused: the old CHAP secret goes.
    const c = fileVol();
    await driver.pause(inst);
    await driver.swapVolume(inst, b.ci, c.ci, '/dev/vdb');
    await driver.unpause(inst);
    expect(await backingHas(c)).toBe(true);
    expect(await secretsOf(b)).toEqual([]);
    expect(await disk(true)).toMatchObject({ kind: 'file', path: c.backing, serial: c.ci.volumeId });
    await driver.detachVolume(inst, c.ci, '/dev/vdb');
    expect(await disk()).toBeUndefined();
    expect(await disk(true)).toBeUndefined();
  }, 240_000);

  it('a shut-off instance is refused with what to do instead', async () => {
    const x = fileVol();
    const y = fileVol();
    await driver.attachVolume(inst, x.ci, '/dev/vdb');
    await driver.powerOff(inst, { timeoutSec: 20, retryIntervalSec: 5 });
    const err = await driver.swapVolume(inst, x.ci, y.ci, '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('running or paused') });
    expect(await disk(true)).toMatchObject({ kind: 'file', path: x.backing });
  }, 120_000);
});
