import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LibvirtDriver } from '../src/driver.js';
import { LIVE_URI, PREFIX, destroyDomains, makeDriver, requireLibvirtd, stateDir } from './helpers/env.js';

/**
 * The binding caches domain handles, and a handle answers getName() on the client side. Lookups are
 * existence questions, so they must reach libvirt every time (gc-migrate and discard rely on it).
 */
const state = stateDir('lookup');
const uuid = randomUUID();
const name = `${PREFIX}lookup-${uuid.slice(0, 8)}`;
let driver: LibvirtDriver;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', LIVE_URI, ...args], { stdio: 'pipe' }).toString();

beforeAll(async () => {
  requireLibvirtd();
  driver = makeDriver({ connection_uri: LIVE_URI }, state);
  await driver.init();
});
afterAll(async () => {
  destroyDomains(LIVE_URI, [uuid]);
  await driver.close();
  rmSync(state, { recursive: true, force: true });
});

describe('libvirt transport: lookups ask libvirt', () => {
  it('finds a domain, then reports it gone once another client undefined it', async () => {
    const file = join(state, 'domain.xml');
    writeFileSync(file, `<domain type='qemu'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    virsh('define', file);
    const transport = driver.internals().transport;

    expect(await transport.find(uuid)).toEqual({ uuid, name });
    expect((await transport.getInfo(uuid)).state).toBeDefined(); // the handle is cached now
    virsh('undefine', uuid);

    expect(await transport.find(uuid)).toBeNull();
    await expect(transport.lookup(uuid)).rejects.toMatchObject({ code: 'not_found' });
  });
});
