import { fileURLToPath } from 'node:url';
import { container } from 'tsyringe';
import { InvalidArgumentError } from '../errors.js';
import { FakeDriver } from '../testing/fake-driver.js';
import { builtinDriverNames, loadDriver, loadDriverModule, registerDriver } from './registry.js';
import { DRIVER_NAME, LOGGER } from './tokens.js';

describe('driver registry', () => {
  it('loads the fake driver by name from inline config', async () => {
    const driver = await loadDriver({ computeDriver: 'fake' });
    expect(driver).toBeInstanceOf(FakeDriver);
    expect(driver.name).toBe('fake');
  });

  it('resolves Nova-style aliases', async () => {
    expect((await loadDriverModule('fake.FakeDriver')).name).toBe('fake');
    expect(builtinDriverNames()).toEqual(expect.arrayContaining(['fake', 'iohyp', 'libvirt', 'virtualbox']));
  });

  it('refuses an unknown name with one line listing the valid ones', async () => {
    const err = await loadDriver({ computeDriver: 'nosuch' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/"nosuch"/);
    expect(message).toMatch(/fake, iohyp, libvirt, virtualbox/);
  });

  it('refuses a missing compute_driver', async () => {
    await expect(loadDriver({})).rejects.toThrow(/compute_driver/);
  });

  it('loads a third-party driver from a package specifier', async () => {
    const spec = fileURLToPath(new URL('../../test/fixtures/third-party-driver/index.js', import.meta.url));
    const driver = await loadDriver({ computeDriver: spec });
    expect(driver.name).toBe('example');
    expect((await driver.getHostInfo()).hostname).toBe('example');
    await expect(driver.pause({ uuid: 'x', name: 'x' })).rejects.toMatchObject({ code: 'unsupported', operation: 'pause' });
  });

  it('creates each driver in its own child container with a {driver} logger', async () => {
    let seen: { name?: string; bindings?: Record<string, unknown> } = {};
    registerDriver('probe-test', async () => ({
      driverModule: {
        name: 'probe-test',
        title: 'probe',
        capabilities: {},
        create(c: typeof container) {
          seen = { name: c.resolve(DRIVER_NAME), bindings: c.resolve(LOGGER).bindings() };
          return new FakeDriver();
        },
      },
    }));
    await loadDriver({ computeDriver: 'probe-test' });
    expect(seen).toEqual({ name: 'probe-test', bindings: { driver: 'probe-test' } });
    expect(container.isRegistered(DRIVER_NAME)).toBe(false);
    expect(() => registerDriver('fake', async () => ({}))).toThrow(/not already registered/);
  });
});
