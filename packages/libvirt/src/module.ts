import {
  DRIVER_CONFIG,
  LOGGER,
  PROCESS_RUNNER,
  STATE_PATH,
  ExecaProcessRunner,
  readSection,
  rootLogger,
  type DriverModule,
  type VirtplugConfig,
} from '@virtplug/core';
import type { DependencyContainer } from 'tsyringe';
import { LIBVIRT_CAPABILITIES } from './capabilities.js';
import { LIBVIRT_SECTION, resolveLibvirtConfig, type LibvirtConfig } from './config.js';
import { LibvirtDriver } from './driver.js';
import { libvirtSmoke } from './contract/smoke.js';

/** The registry entry: `compute_driver = libvirt` (or Nova's `libvirt.LibvirtDriver`). */
export const driverModule: DriverModule<LibvirtDriver> = {
  name: 'libvirt',
  title: 'libvirt (QEMU/KVM, Xen, test driver)',
  aliases: ['libvirt.LibvirtDriver'],
  capabilities: LIBVIRT_CAPABILITIES,
  config: { libvirt: LIBVIRT_SECTION },
  async probe(config: VirtplugConfig) {
    const section = readSection(config, 'libvirt', LIBVIRT_SECTION);
    const statePath = String(config.sections.DEFAULT?.state_path ?? '/var/lib/virtplug');
    const driver = new LibvirtDriver({
      config: resolveLibvirtConfig(section, statePath, config.file),
      runner: new ExecaProcessRunner(),
      logger: rootLogger('silent'),
    });
    try {
      return await driver.probe();
    } finally {
      await driver.close();
    }
  },
  smoke: libvirtSmoke,
  create(container: DependencyContainer) {
    const sections = container.resolve(DRIVER_CONFIG);
    const statePath = container.resolve(STATE_PATH);
    return new LibvirtDriver({
      config: resolveLibvirtConfig((sections.libvirt ?? {}) as Partial<LibvirtConfig>, statePath),
      runner: container.resolve(PROCESS_RUNNER),
      logger: container.resolve(LOGGER),
    });
  },
};
export default driverModule;
