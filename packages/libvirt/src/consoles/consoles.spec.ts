import { PowerState, hasErrorCode } from '@virtplug/core';
import { memoryDriver, removeMemoryDriverDirs } from '../../test/support/memory-driver.js';
import { readDomain } from '../xml/read.js';

afterAll(() => removeMemoryDriverDirs());

describe('getSpiceConsole (in-memory transport)', () => {
  it('with spice_enabled: the live port, the console address, a 16-character password that is never logged', async () => {
    const { driver, transport, image, instance, logs } = memoryDriver({ spice_enabled: true, console_listen: '127.0.0.1' });
    await driver.init();
    const inst = instance();
    await driver.spawn(inst, image);
    const password = readDomain(await transport.getXml(inst.uuid, { secure: true })).spec.spice?.password;
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    const c = await driver.getSpiceConsole(inst);
    expect(c).toEqual({ type: 'spice', host: '127.0.0.1', port: expect.any(Number), password });
    expect(c.port).toBeGreaterThan(5900);
    // Its own secret: not the VNC password.
    expect((await driver.getVncConsole(inst)).password).not.toBe(password);
    expect(logs.join('\n')).not.toContain(password!);
  });

  it('refuses an instance created without SPICE (naming the option) and one that is not running', async () => {
    const { driver, image, instance } = memoryDriver();
    await driver.init();
    const plain = instance();
    await driver.spawn(plain, image);
    const e = (await driver.getSpiceConsole(plain).catch((err: unknown) => err)) as Error;
    expect(hasErrorCode(e, 'unsupported')).toBe(true);
    expect(e.message).toContain('[libvirt] spice_enabled');

    const { driver: d2, image: i2, instance: inst2 } = memoryDriver({ spice_enabled: true });
    await d2.init();
    const off = inst2();
    await d2.spawn(off, i2, { powerOn: false });
    expect((await d2.getInfo(off)).state).toBe(PowerState.SHUTDOWN);
    await expect(d2.getSpiceConsole(off)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('not running') });
  });
});
