import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PowerState, type Instance } from '@virtplug/core';
import { Harness, writeQcow2 } from './helpers/harness.js';

/** Instance names are free text: argv (never a shell) carries spaces, quotes and `;` through unharmed. */
describe('names with spaces, quotes and semicolons', () => {
  let h: Harness;
  beforeAll(() => {
    h = new Harness();
  });
  afterAll(() => h.cleanup());

  it.each([
    ['spaces', 'vp vbox with  spaces'],
    ['quotes', `vp "double" and 'single'`],
    ['semicolon and shell syntax', 'vp; rm -rf / && echo $(id) `x` | cat'],
    ['path-like', '../../etc/vp-evil'],
  ])('%s: %j works end to end', async (_label, name) => {
    const driver = h.driver({ remote_display: 'true', vrde_module: 'VNC', vrde_port: '5950-5960', vrde_unique_port: 'true' });
    const image = { id: 'img', name: 'img', diskFormat: 'qcow2' as const, path: writeQcow2(join(h.root, `img-${randomUUID()}.qcow2`)) };
    const instance: Instance = { uuid: randomUUID(), name, flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 0 } };
    const info = await driver.spawn(instance, image);
    expect(info).toMatchObject({ name, state: PowerState.RUNNING });
    expect(await driver.listInstances()).toContain(name);
    expect(await driver.findInstance(name)).toEqual({ uuid: instance.uuid, name });
    expect((await driver.getConsoleOutput(instance))).toContain(`of '${name}'`);
    await driver.pause(instance);
    await driver.unpause(instance);
    // The machine folder stays inside the instance's own folder, whatever the name says.
    const settingsFile = h.state().vms[instance.uuid].cfgFile as string;
    expect(settingsFile.startsWith(join(h.instances, instance.uuid) + '/')).toBe(true);
    await driver.destroy(instance);
    expect(await driver.instanceExists(instance)).toBe(false);
    expect(existsSync(join(h.instances, instance.uuid))).toBe(false);
    expect(existsSync('/etc/vp-evil')).toBe(false);
  });
});
