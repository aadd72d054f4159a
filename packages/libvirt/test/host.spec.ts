import { rmSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { LibvirtDriver } from '../src/driver.js';
import { LIVE_URI, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';

/** Host-level calls on the live daemon. */
const state = stateDir('host');
let driver: LibvirtDriver;

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
});
afterAll(async () => {
  await driver.close();
  rmSync(state, { recursive: true, force: true });
});

describe('libvirt driver: host', () => {
  it('reports libvirt and QEMU versions, the virt type, CPUs and memory', async () => {
    const info = await driver.getHostInfo();
    expect(info.hypervisorType).toBe('QEMU');
    expect(info.versions).toMatchObject({ libvirt: expect.stringMatching(/^\d+\.\d+\.\d+$/), qemu: expect.stringMatching(/^\d+\.\d+/), virt_type: 'qemu' });
    expect(info.cpus).toBeGreaterThan(0);
    const res = await driver.getAvailableResource();
    expect(res.memoryMb).toBe(info.memoryMb);
    expect(res.localGb).toBeGreaterThan(0);
  });

  it('reports uptime, an IPv4 address and a volume connector with the initiator QEMU presents', async () => {
    expect(await driver.getHostUptime()).toBeGreaterThan(0);
    expect(isIPv4(await driver.getHostIpAddr())).toBe(true);
    const c = await driver.getVolumeConnector({ uuid: '3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10', name: 'x' });
    expect(c.initiator).toMatch(/^iqn\.2026-11\.dev\.virtplug:/);
    expect(c.host).toBe((await driver.getHostInfo()).hostname);
  });
});
