import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hasErrorCode, type Instance } from '@virtplug/core';
import type { LibvirtDriver } from '../src/driver.js';
import { LIVE_URI, destroyDomains, guestImage, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';

/**
 * setAdminPassword on a real guest: the project agent stores the hash, and the guest's own check
 * (the agent's check-password, as login would verify) accepts the new password and refuses others.
 */
const state = stateDir('adminpw');
let driver: LibvirtDriver;
const inst: Instance = { uuid: randomUUID(), name: `vp-lv-adminpw-${randomUUID().slice(0, 6)}`, flavor: { name: 'm1.tiny', memoryMb: 128, vcpus: 1, rootGb: 0 } };

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
  await driver.spawn(inst, guestImage());
}, 120_000);
afterAll(async () => {
  await driver.destroy(inst).catch(() => undefined);
  destroyDomains(LIVE_URI, [inst.uuid]);
  await driver.close();
  rmSync(state, { recursive: true, force: true });
});

const check = (password: string) => driver.guestAgent(inst).request<{ match: boolean }>('check-password', { user: 'root', password }, { timeoutMs: 30_000 });

it('sets root password in the guest: the new one matches, the old and a wrong one do not', async () => {
  const first = `pw-${randomBytes(6).toString('hex')} "quoted" & <x>`;
  const second = `pw2-${randomBytes(6).toString('hex')}:colon\n`;
  await driver.setAdminPassword(inst, first);
  expect((await check(first)).match).toBe(true);
  await driver.setAdminPassword(inst, second);
  expect((await check(second)).match).toBe(true);
  expect((await check(first)).match).toBe(false);
  expect((await check('')).match).toBe(false);
}, 120_000);

it('refuses an empty or oversized password and a stopped instance, naming what is expected', async () => {
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (hasErrorCode(e, 'invalid_argument') ? 'invalid_argument' : hasErrorCode(e, 'invalid_state') ? 'invalid_state' : String(e)));
  expect(await codeOf(driver.setAdminPassword(inst, ''))).toBe('invalid_argument');
  const long = `secret-${'x'.repeat(1025)}`;
  const e = await driver.setAdminPassword(inst, long).catch((err: unknown) => err as Error);
  expect(hasErrorCode(e, 'invalid_argument')).toBe(true);
  expect((e as Error).message).toMatch(/1 to 1024 bytes/);
  expect(`${(e as Error).message} ${JSON.stringify(e)}`).not.toContain('secret-');
  await driver.powerOff(inst);
  await expect(driver.setAdminPassword(inst, 'after-power-off')).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/must be running/) });
}, 120_000);
