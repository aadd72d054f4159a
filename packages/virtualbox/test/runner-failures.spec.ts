import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { HypervisorUnavailableError, LockedError, NotFoundError, TimeoutError } from '@virtplug/core';
import { Harness, makeDriver, writeQcow2 } from './helpers/harness.js';

/** Failure handling through the real runner path: a fake VBoxManage process per call. */
describe('VBoxManage runner against the replay harness', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.cleanup());

  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('ends a hung call with a TimeoutError within the configured time and kills the child', async () => {
    h.faults([{ command: 'list', hang: true }]);
    const driver = h.driver({ call_timeout_seconds: '1' });
    const started = Date.now();
    const err = await driver.listInstances().catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/VBoxManage list vms did not finish within 1000 ms; the VBoxManage process was killed/);
    expect(elapsed).toBeLessThan(10_000);
    const pidFile = join(h.home, 'hang.pid');
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(false);
    expect(h.calls().filter((c) => c.argv.includes('list'))).toHaveLength(1);
  });

  it('a lock error twice, then success, gives success', async () => {
    const driver = h.driver({ retry_count: '3' });
    const instance = { uuid: randomUUID(), name: 'vp-vbox-lock', flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 0 } };
    await driver.spawn(instance, { id: 'i', name: 'i', diskFormat: 'qcow2', path: writeQcow2(join(h.root, 'i.qcow2')) }, { powerOn: false });
    h.faults([{ command: 'modifyvm', error: 'locked', times: 2 }]);
    await driver.resize(instance, { name: 'big', memoryMb: 512, vcpus: 2, rootGb: 0 });
    expect(await driver.getInfo(instance)).toMatchObject({ maxMemKb: 512 * 1024, vcpus: 2 });
    const modify = h.calls().filter((c) => c.argv[1] === 'modifyvm' && c.argv.includes('--memory') && c.argv.includes('512'));
    expect(modify).toHaveLength(3);
  });

  it('a lock error forever gives a LockedError after retry_count tries', async () => {
    const driver = h.driver({ retry_count: '4' });
    const instance = { uuid: randomUUID(), name: 'vp-vbox-lock2', flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 0 } };
    await driver.spawn(instance, { id: 'i', name: 'i', diskFormat: 'qcow2', path: writeQcow2(join(h.root, 'i.qcow2')) }, { powerOn: false });
    h.faults([{ command: 'modifyvm', error: 'locked' }]);
    const err = await driver.resize(instance, { name: 'big', memoryMb: 512, vcpus: 2, rootGb: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as Error).message).toMatch(/already locked for a session.*tried 4 times/);
    expect(h.calls().filter((c) => c.argv[1] === 'modifyvm' && c.argv.includes('512'))).toHaveLength(4);
  });

  it('vboxmanage_cmd pointing nowhere gives HypervisorUnavailableError naming the path', async () => {
    const missing = join(h.root, 'no', 'such', 'VBoxManage');
    const driver = makeDriver(h.runner, { vboxmanage_cmd: missing });
    const err = await driver.listInstances().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HypervisorUnavailableError);
    expect((err as Error).message).toContain(JSON.stringify(missing));
    expect(await driver.probe()).toMatchObject({ usable: false, reason: expect.stringContaining(missing) });
  });

  it('maps an unknown machine to NotFoundError and sends LANG/LC_ALL=C.UTF-8 with --nologo', async () => {
    const driver = h.driver();
    const ghost = randomUUID();
    const err = await driver.getInfo({ uuid: ghost, name: 'ghost' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).details).toMatchObject({ kind: 'VirtualBox machine', id: ghost });
    const last = h.calls().at(-1)!;
    expect(last.argv).toEqual(['--nologo', 'showvminfo', ghost, '--machinereadable']);
    expect(last.env).toEqual({ LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
  });

  it('detects the version once, through WARNING lines and a revision suffix', async () => {
    h.control({ version: '6.1.50_OSEr161033', kernelModuleWarning: true });
    const driver = h.driver();
    expect((await driver.getHostInfo()).versions.VBoxManage).toBe('6.1.50_OSEr161033');
    expect((await driver.getAvailableResource()).hypervisorVersion).toBe('6.1.50');
    expect(h.calls().filter((c) => c.argv.includes('--version'))).toHaveLength(1);
    expect(await driver.probe()).toMatchObject({ usable: false, reason: expect.stringMatching(/kernel module is not loaded/) });
  });

  it('refuses instance references it cannot address safely', async () => {
    const driver = h.driver();
    await expect(driver.getInfo({ uuid: 'not-a-uuid', name: 'x' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(driver.getInfo({ uuid: randomUUID(), name: 'bad\nname' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(driver.snapshot({ uuid: randomUUID(), name: 'x' }, { imageName: '../escape' })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(h.calls()).toHaveLength(0);
  });
});
