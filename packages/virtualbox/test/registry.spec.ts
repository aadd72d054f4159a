import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { container } from 'tsyringe';
import { PROCESS_RUNNER, PowerState, loadDriver, loadDriverModule, fromInline, runDriverContract } from '@virtplug/core';
import { driverModule, replayHarnessPath, VirtualBoxDriver } from '../src/index.js';
import { Harness, writeQcow2 } from './helpers/harness.js';

/** The driver as the CLI gets it: through core's registry, configured to use the replay harness. */
describe('loading the VirtualBox driver by name', () => {
  let h: Harness;
  beforeAll(() => {
    h = new Harness();
  });
  afterAll(() => h.cleanup());

  const withRunner = () => {
    const child = container.createChildContainer();
    child.register(PROCESS_RUNNER, { useValue: h.runner });
    return child;
  };

  it('replayHarnessPath() is an executable Node script', () => {
    const path = replayHarnessPath();
    accessSync(path, constants.X_OK);
    expect(readFileSync(path, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('resolves the name and the Nova alias to this module', async () => {
    expect((await loadDriverModule('virtualbox')).name).toBe('virtualbox');
    expect((await loadDriverModule('virtualbox.VirtualBoxDriver')).config).toEqual(driverModule.config);
  });

  it('loadDriver({computeDriver: "virtualbox", virtualbox: {vboxmanage_cmd: harness}}) gives a working driver', async () => {
    const driver = await loadDriver<VirtualBoxDriver>(
      { computeDriver: 'virtualbox', statePath: h.root, virtualbox: { vboxmanage_cmd: replayHarnessPath() } },
      { container: withRunner() },
    );
    expect(driver).toBeInstanceOf(VirtualBoxDriver);
    expect(driver.ctx.settings.instancesPath).toBe(join(h.root, 'virtualbox', 'instances'));
    const instance = { uuid: randomUUID(), name: 'vp-registry', flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 0 } };
    const info = await driver.spawn(instance, { id: 'i', name: 'i', diskFormat: 'qcow2', path: writeQcow2(join(h.root, 'i.qcow2')) });
    expect(info.state).toBe(PowerState.RUNNING);
    expect(await driver.findInstance('vp-registry')).toEqual({ uuid: instance.uuid, name: 'vp-registry' });
    await driver.destroy(instance);
    await expect(loadDriver({ computeDriver: 'virtualbox', virtualbox: { retry_count: 'abc' } })).rejects.toMatchObject({ code: 'invalid_config', key: 'retry_count' });
  });

  it('probe reports the harness version, or why VBoxManage is unusable', async () => {
    process.env.FAKE_VBOX_HOME = h.home;
    try {
      expect(await driverModule.probe!(fromInline({ virtualbox: { vboxmanage_cmd: replayHarnessPath() } }))).toEqual({
        usable: true,
        reason: `VBoxManage 7.0.20r163906 at ${replayHarnessPath()}`,
        backendVersion: '7.0.20r163906',
      });
    } finally {
      delete process.env.FAKE_VBOX_HOME;
    }
    expect(await driverModule.probe!(fromInline({ virtualbox: { vboxmanage_cmd: '/nonexistent/VBoxManage' } }))).toMatchObject({ usable: false });
  });

  it('smoke(): the contract runs outside jest against the harness and records replay evidence', async () => {
    const driver = h.driver({ remote_display: 'true', vrde_module: 'VNC', vrde_port: '25990-25999', vrde_unique_port: 'true' });
    const evidenceDir = join(h.root, 'evidence');
    // The harness home is per test here; smoke() reads FAKE_VBOX_HOME as the CLI would have it.
    process.env.FAKE_VBOX_HOME = h.home;
    try {
      const options = await driverModule.smoke!(driver, { evidenceDir, config: fromInline({}) });
      const { outcomes, evidencePath } = await runDriverContract(driver, { ...options, timeoutMs: 60_000 });
      expect(outcomes.filter((o) => o.result === 'fail')).toEqual([]);
      const evidence = JSON.parse(readFileSync(evidencePath, 'utf8'));
      expect(evidence).toMatchObject({ driver: 'virtualbox', mode: 'replay', backend: { name: 'VBoxManage (replay)', version: '7.0.20r163906' } });
      expect(evidence.features['storage.block.backend.iscsi.auth.chap'].result).toBe('pass');
      rmSync(dirname(options.image.path), { recursive: true, force: true });
    } finally {
      delete process.env.FAKE_VBOX_HOME;
    }
  });
});
