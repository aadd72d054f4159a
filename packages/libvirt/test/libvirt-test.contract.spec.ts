import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeDriverContract } from '@virtplug/core/testing';
import type { LibvirtDriver } from '../src/driver.js';
import { EVIDENCE_DIR, guestImage, makeDriver, stateDir } from './helpers/env.js';

/**
 * The same contract against libvirt's in-process test driver (test:///default): what the driver's
 * logic does on libvirt semantics without QEMU. Only the binding reaches a test:/// connection, so the
 * driver declares virsh-only features missing there (TEST_DRIVER_CAPABILITIES). Evidence mode
 * `in-memory`: it checks logic and backs no claim in the matrix.
 */
const URI = 'test:///default';
const state = stateDir('testdrv');
let driver: LibvirtDriver;

afterAll(() => rmSync(state, { recursive: true, force: true }));

describeDriverContract(
  async () => {
    driver = makeDriver({ connection_uri: URI, shutdown_timeout: 5 }, state);
    await driver.init();
    return driver;
  },
  {
    label: 'libvirt test:///',
    image: guestImage(),
    timeoutMs: 30_000,
    // virsh would open a fresh test:/// connection and see nothing: ask the driver's own connection.
    leftovers: async (i) => [
      ...((await driver.instanceExists(i)) ? [`domain ${i.uuid}`] : []),
      ...(existsSync(join(state, 'instances', i.uuid)) ? [join(state, 'instances', i.uuid)] : []),
    ],
    evidence: {
      dir: EVIDENCE_DIR,
      mode: 'in-memory',
      file: 'libvirt-test',
      backend: async (d) => {
        const info = await d.getHostInfo();
        return {
          name: 'libvirt test driver',
          version: `libvirt ${info.versions.libvirt}, ${info.hypervisorType} ${info.hypervisorVersion}, virt_type test`,
          details: { libvirt: info.versions.libvirt ?? 'unknown', hypervisor: `${info.hypervisorType} ${info.hypervisorVersion}`, virt_type: 'test', uri: URI },
        };
      },
    },
  },
);
