import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DependencyContainer } from 'tsyringe';
import {
  CONFIG,
  DRIVER_CONFIG,
  ExecaProcessRunner,
  LOGGER,
  PROCESS_RUNNER,
  STATE_PATH,
  opt,
  readDefaults,
  readSection,
  type DriverModule,
  type VirtplugConfig,
} from '@virtplug/core';
import { VIRTUALBOX_CAPABILITIES } from './capabilities.js';
import { RDP_SECTION, VIRTUALBOX_SECTION, resolveSettings, type RdpSection, type VirtualBoxSection } from './config.js';
import { VirtualBoxDriver } from './driver.js';
import { probeVBoxManage } from './probe.js';
import { contractOptions } from './smoke.js';
import { protocolForModule } from './vrde/extpack.js';
import { VBoxManageRunner } from './vboxmanage/runner.js';

/** Absolute path of the replay harness, a fake VBoxManage to point `vboxmanage_cmd` at. */
export function replayHarnessPath(): string {
  return fileURLToPath(new URL('../bin/fake-vboxmanage.js', import.meta.url));
}

/** Nova's `[DEFAULT] use_cow_images` (default true), read leniently: it belongs to no driver section. */
function useCowImages(config: VirtplugConfig | undefined): boolean {
  if (!config) return true;
  return readSection(config, 'DEFAULT', { use_cow_images: opt.bool(true, 'copy-on-write root disks') }).use_cow_images;
}

export const driverModule: DriverModule<VirtualBoxDriver> = {
  name: 'virtualbox',
  title: 'VirtualBox (VBoxManage)',
  aliases: ['virtualbox.VirtualBoxDriver'],
  capabilities: VIRTUALBOX_CAPABILITIES,
  config: { virtualbox: VIRTUALBOX_SECTION, rdp: RDP_SECTION },
  async probe(config: VirtplugConfig) {
    try {
      const vb = readSection(config, 'virtualbox', VIRTUALBOX_SECTION);
      const runner = new VBoxManageRunner(new ExecaProcessRunner(), {
        cmd: vb.vboxmanage_cmd,
        retryCount: 1,
        retryIntervalMs: 0,
        timeoutMs: Math.round(vb.call_timeout_seconds * 1000),
      });
      return await probeVBoxManage(runner);
    } catch (e) {
      return { usable: false, reason: (e as Error).message };
    }
  },
  create(container: DependencyContainer) {
    const sections = container.resolve(DRIVER_CONFIG);
    const config = container.isRegistered(CONFIG, true) ? container.resolve(CONFIG) : undefined;
    const statePath = container.isRegistered(STATE_PATH, true)
      ? container.resolve(STATE_PATH)
      : config
        ? readDefaults(config).state_path
        : '/var/lib/virtplug';
    const settings = resolveSettings(
      sections.virtualbox as VirtualBoxSection,
      sections.rdp as RdpSection,
      statePath,
      useCowImages(config),
    );
    const processes = container.isRegistered(PROCESS_RUNNER, true) ? container.resolve(PROCESS_RUNNER) : new ExecaProcessRunner();
    return new VirtualBoxDriver(settings, processes, container.resolve(LOGGER));
  },
  /** `virtplug smoke virtualbox`: the contract against the configured VBoxManage (harness → replay, real → live). */
  async smoke(driver, { evidenceDir }) {
    const s = driver.ctx.settings.virtualbox;
    const rdp = s.remote_display && protocolForModule(s.vrde_module) === 'rdp';
    const scratchDir = mkdtempSync(join(tmpdir(), 'vp-vbox-smoke-'));
    // The generated image and volumes live as long as the smoke run's process.
    process.once('exit', () => rmSync(scratchDir, { recursive: true, force: true }));
    return contractOptions(driver, {
      evidenceDir,
      scratchDir,
      label: rdp ? 'virtualbox (RDP)' : 'virtualbox',
      file: rdp ? 'virtualbox-rdp' : 'virtualbox',
    });
  },
};

export default driverModule;

export { VirtualBoxDriver } from './driver.js';
export { VIRTUALBOX_CAPABILITIES, capabilitiesFor } from './capabilities.js';
export { VIRTUALBOX_SECTION, RDP_SECTION, CONFIG_SECTIONS, resolveSettings, type VBoxSettings } from './config.js';
export { VBoxManageRunner, VBOX_ENV, type CallOptions, type CallResult } from './vboxmanage/runner.js';
export { toVirtplugError } from './vboxmanage/errors.js';
export { parsePortSpec, isValidPortSpec } from './vrde/port-spec.js';
export { VrdePortPool } from './vrde/port-pool.js';
export { contractOptions, isReplayHarness, harnessHomeFor, type SmokeSetup } from './smoke.js';
export * from './vboxmanage/parse/index.js';
