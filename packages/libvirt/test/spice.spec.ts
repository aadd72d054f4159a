import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { PowerState, hasErrorCode, type Instance } from '@virtplug/core';
import type { LibvirtDriver } from '../src/driver.js';
import { readDomain } from '../src/xml/read.js';
import { LIVE_URI, destroyDomains, guestImage, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';
import { SPICE_LINK_ERR_OK, SPICE_LINK_ERR_PERMISSION_DENIED, spiceLink } from './helpers/spice-link.js';

/**
 * getSpiceConsole on real libvirtd + QEMU (TCG): a guest created with [libvirt] spice_enabled gets a
 * SPICE server on the port libvirt assigned, which speaks the SPICE link protocol and accepts the
 * console password (and refuses another). One running guest; the refusal case is defined, not started.
 */
const state = stateDir('spice');
let driver: LibvirtDriver;
let plainDriver: LibvirtDriver;
const tag = randomUUID().slice(0, 6);
const flavor = { name: 'm1.tiny', memoryMb: 128, vcpus: 1, rootGb: 0 };
const spiced: Instance = { uuid: randomUUID(), name: `vp-spice-on-${tag}`, flavor };
const plain: Instance = { uuid: randomUUID(), name: `vp-spice-off-${tag}`, flavor };
const virsh = (...args: string[]) => execFileSync('virsh', ['-c', LIVE_URI, ...args], { encoding: 'utf8', stdio: 'pipe' });

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI, spice_enabled: true, console_listen: '127.0.0.1' }, state);
  plainDriver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
  await plainDriver.init();
  await driver.spawn(spiced, guestImage());
}, 120_000);

afterAll(async () => {
  for (const [d, i] of [[driver, spiced], [plainDriver, plain]] as const) await d?.destroy(i).catch(() => undefined);
  destroyDomains(LIVE_URI, [spiced.uuid, plain.uuid]);
  await driver?.close();
  await plainDriver?.close();
  rmSync(state, { recursive: true, force: true });
}, 60_000);

it('gives the running guest a SPICE console that speaks the link protocol and takes its password', async () => {
  const c = await driver.getSpiceConsole(spiced);
  expect(c).toMatchObject({ type: 'spice', host: '127.0.0.1' });
  expect(c.port).toBeGreaterThanOrEqual(5900);
  expect(c.password).toMatch(/^[A-Za-z0-9]{16}$/);
  // Beside VNC, on a different port with a different password.
  const vnc = await driver.getVncConsole(spiced);
  expect(vnc.port).not.toBe(c.port);
  expect(vnc.password).not.toBe(c.password);

  const reply = await spiceLink(c.host, c.port, c.password);
  expect(reply).toMatchObject({ magic: 'REDQ', major: 2, minor: 2, error: SPICE_LINK_ERR_OK, ticketResult: SPICE_LINK_ERR_OK });
  expect(reply.headerHex.slice(0, 24)).toBe('524544510200000002000000');
  const wrong = await spiceLink(c.host, c.port, `${c.password}x`);
  expect(wrong.ticketResult).toBe(SPICE_LINK_ERR_PERMISSION_DENIED);
}, 60_000);

it('keeps the password out of the XML libvirt shows without --security-info', () => {
  const password = readDomain(virsh('dumpxml', '--security-info', spiced.uuid)).spec.spice?.password;
  expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
  const live = virsh('dumpxml', spiced.uuid);
  const inactive = virsh('dumpxml', '--inactive', spiced.uuid);
  expect(readDomain(live).spec.spice).toEqual({ listen: '127.0.0.1' });
  for (const xml of [live, inactive]) expect(xml).not.toContain(password!);
  // The persistent definition keeps it, so the console survives a restart with the same password.
  expect(readDomain(virsh('dumpxml', '--inactive', '--security-info', spiced.uuid)).spec.spice?.password).toBe(password);
});

it('refuses an instance created without SPICE (naming the option), and one that is powered off', async () => {
  await plainDriver.spawn(plain, guestImage(), { powerOn: false });
  const e = (await driver.getSpiceConsole(plain).catch((err: unknown) => err)) as Error;
  expect(hasErrorCode(e, 'unsupported')).toBe(true);
  expect(e.message).toContain('[libvirt] spice_enabled');

  await driver.powerOff(spiced, { timeoutSec: 0 });
  expect((await driver.getInfo(spiced)).state).toBe(PowerState.SHUTDOWN);
  await expect(driver.getSpiceConsole(spiced)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('not running') });
}, 120_000);
