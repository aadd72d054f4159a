import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeDriverContract } from '@virtplug/core/testing';
import type { LibvirtDriver } from '../src/driver.js';
import { EVIDENCE_DIR, LIVE_URI, guestImage, leftovers, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';
import { agentProbe, waitForAgent } from '../src/contract/guest.js';
import { libvirtBackend } from '../src/contract/backend.js';
import { TgtDaemon } from './helpers/tgt.js';
import { fileVolume, iscsiVolume, nbdVolume } from './helpers/volumes.js';

/**
 * The core contract on real libvirtd + QEMU (TCG) with guests booted from the project's guest image.
 * One guest carries most checks; the guest agent sees the state changes from inside. Writes
 * docs/evidence/libvirt.json, which marks the libvirt column of the matrix as verified live.
 */
const state = stateDir('contract');
const volumeDir = join(state, 'volumes');
let driver: LibvirtDriver;
const tgt = new TgtDaemon();

beforeAll(async () => {
  requireLibvirtd();
  await import('node:fs').then((fs) => fs.mkdirSync(volumeDir, { recursive: true }));
  await tgt.start();
}, 30_000);

afterAll(async () => {
  await tgt.stop();
  rmSync(state, { recursive: true, force: true });
}, 30_000);

describeDriverContract(
  async () => {
    // spice_enabled: the contract's console.spice check needs instances created with SPICE graphics.
    driver = makeDriver({ connection_uri: LIVE_URI, spice_enabled: true }, state);
    await driver.init();
    return driver;
  },
  {
    label: 'libvirt+qemu',
    image: guestImage(),
    flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 },
    resizeFlavor: { name: 'm1.tiny.plus', memoryMb: 320, vcpus: 2, rootGb: 1 },
    timeoutMs: 180_000,
    guest: agentProbe(() => driver),
    waitForGuest: (d, i) => waitForAgent(d as LibvirtDriver, i),
    leftovers: async (i) => leftovers(LIVE_URI, state, i),
    volumes: {
      file: fileVolume(() => driver, volumeDir),
      nbd: nbdVolume(() => driver, volumeDir),
      iscsi: iscsiVolume(() => driver, volumeDir, tgt, false),
      iscsiChap: iscsiVolume(() => driver, volumeDir, tgt, true),
    },
    evidence: {
      dir: EVIDENCE_DIR,
      mode: 'live',
      file: 'libvirt',
      backend: (d) => libvirtBackend(d, LIVE_URI),
    },
  },
);
