import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, HypervisorUnavailableError, InvalidArgumentError, NotFoundError, PowerState, hasErrorCode, loadDriver, type Instance } from '@virtplug/core';
import { LibvirtDriver } from '../src/driver.js';
import { LIVE_URI, destroyDomains, guestImage, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';

/** Bad input on the live driver: clear errors, and nothing created by a refused call. */
const state = stateDir('bad');
let driver: LibvirtDriver;
const created: string[] = [];
const flavor = { name: 'm1.tiny', memoryMb: 128, vcpus: 1, rootGb: 0 };

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
}, 30_000);

afterAll(async () => {
  for (const uuid of created) await driver.destroy({ uuid, name: '' }).catch(() => undefined);
  destroyDomains(LIVE_URI, created);
  await driver.close();
  rmSync(state, { recursive: true, force: true });
}, 60_000);

describe('libvirt driver: bad input', () => {
  it('an unknown instance is not found, for reads and for actions', async () => {
    const ghost = { uuid: randomUUID(), name: 'vp-lv-ghost' };
    for (const call of [() => driver.getInfo(ghost), () => driver.pause(ghost), () => driver.getVncConsole(ghost), () => driver.getConsoleOutput(ghost)]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain(ghost.uuid);
    }
    expect(await driver.findInstance('vp-lv-ghost')).toBeUndefined();
  });

  it('a malformed URI is a ConfigError from config and an InvalidArgumentError from code, naming the accepted forms', async () => {
    const err = await loadDriver({ computeDriver: 'libvirt', statePath: state, libvirt: { connection_uri: 'qemu//system' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/\[libvirt\] connection_uri = "qemu\/\/system" is invalid; expected a libvirt connection URI such as qemu:\/\/\/system/);
    expect(() => new LibvirtDriver({ config: { ...(driver.internals().config), connection_uri: 'http://x/system' }, runner: driver.internals().runner, logger: driver.internals().logger })).toThrow(
      InvalidArgumentError,
    );
  });

  it('libvirtd down gives hypervisor_unavailable naming the URI and how to start the daemon', async () => {
    const uri = 'qemu+unix:///system?socket=/tmp/vp-lv-nonexistent.sock';
    const down = makeDriver({ connection_uri: uri }, state);
    const err = await down.init().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HypervisorUnavailableError);
    expect((err as Error).message).toContain(uri);
    expect((err as Error).message).toContain('bash tools/libvirt/start-libvirtd.sh');
    const probe = await down.probe();
    expect(probe.usable).toBe(false);
    expect(probe.reason).toContain('start-libvirtd.sh');
    await down.close();
  });

  it('names with quotes, <, &, and spaces work safely (escaped), and come back exactly', async () => {
    const name = `vp-lv-q "x" <y> & 'z'`;
    const inst: Instance = { uuid: randomUUID(), name, flavor };
    created.push(inst.uuid);
    const info = await driver.spawn(inst, guestImage(), { powerOn: false });
    expect(info).toMatchObject({ name, state: PowerState.SHUTDOWN });
    expect(await driver.listInstances()).toContain(name);
    expect(await driver.findInstance(name)).toEqual({ uuid: inst.uuid, name });
    await driver.destroy(inst);
    expect(await driver.instanceExists(inst)).toBe(false);
  });

  it.each([
    ['vp-lv-../etc', "contains '/'"],
    ['vp-lv-a..b', "contains '..'"],
    ['vp-lv-new\nline', 'control character'],
    ['x'.repeat(65), '65 characters'],
  ])('refuses the name %j clearly and creates nothing', async (name, why) => {
    const inst: Instance = { uuid: randomUUID(), name, flavor };
    const err = await driver.spawn(inst, guestImage()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(why);
    expect(await driver.instanceExists(inst)).toBe(false);
    expect(existsSync(join(state, 'instances', inst.uuid))).toBe(false);
  });

  it('refuses a path-traversing UUID and bad volume connection info', async () => {
    expect(hasErrorCode(await driver.getInfo({ uuid: '../../etc', name: 'x' }).catch((e: unknown) => e), 'invalid_argument')).toBe(true);
    const ghost = { uuid: randomUUID(), name: 'vp-lv-ghost' };
    const bad = await driver.attachVolume(ghost, { driverVolumeType: 'file', volumeId: 'v', data: { path: '/var/tmp/../etc/passwd' } }, '/dev/vdb').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    const port = await driver.attachVolume(ghost, { driverVolumeType: 'nbd', volumeId: 'v', data: { host: '127.0.0.1', port: 70000 } }, '/dev/vdb').catch((e: unknown) => e);
    expect(port).toBeInstanceOf(InvalidArgumentError);
    const mp = await driver.attachVolume(ghost, { driverVolumeType: 'file', volumeId: 'v', data: { path: '/x' } }, '/dev/../vdb').catch((e: unknown) => e);
    expect((mp as Error).message).toContain('volume mountpoint');
  });

  it('loads through the registry by its Nova alias and probes the live daemon', async () => {
    const d = await loadDriver({ computeDriver: 'libvirt.LibvirtDriver', statePath: state, libvirt: { connection_uri: LIVE_URI } });
    expect(d).toBeInstanceOf(LibvirtDriver);
    const p = await d.probe();
    expect(p).toMatchObject({ usable: true });
    expect(p.backendVersion).toMatch(/^libvirt \d+\.\d+\.\d+; QEMU \d+\.\d+/);
    await d.close();
  });
});
