import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Instance } from '@virtplug/core';
import { Harness, writeQcow2 } from './helpers/harness.js';

/** VRDE through the driver: the exact argv sent to VBoxManage, the port pool, packs and consoles. */
describe('VRDE consoles', () => {
  let h: Harness;
  let image: { id: string; name: string; diskFormat: 'qcow2'; path: string };
  beforeEach(() => {
    h = new Harness();
    image = { id: 'img', name: 'img', diskFormat: 'qcow2', path: writeQcow2(join(h.root, 'img.qcow2')) };
  });
  afterEach(() => h.cleanup());

  const instance = (name: string, uuid = randomUUID()): Instance => ({ uuid, name, flavor: { name: 't', memoryMb: 128, vcpus: 1, rootGb: 0 } });
  const vrdeArgs = (argv: string[]) => {
    const i = argv.indexOf('--vrde');
    return i < 0 ? [] : argv.slice(i);
  };

  it('VNC with unique ports and the UUID as password: extpack, exact modifyvm argv, console', async () => {
    const driver = h.driver({
      remote_display: 'true', vrde_module: 'VNC', vrde_port: '5900-6000', vrde_unique_port: 'true',
      vrde_require_instance_uuid_as_password: 'true', vrde_password_length: '20',
    });
    const a = instance('vp-vrde-a', '6294f16b-4f05-4430-afb9-773bdb237aec');
    await driver.spawn(a, image);
    expect(h.runner.find('list', 'extpacks')).toHaveLength(1);
    expect(h.runner.find('setproperty')).toEqual([['setproperty', 'vrdeextpack', 'VNC']]);
    const modify = h.runner.find('modifyvm', a.uuid)[0]!;
    expect(vrdeArgs(modify)).toEqual(['--vrde', 'on', '--vrdeport', '5900', '--vrdeproperty', 'VNCPassword=6294f16b-4f05-4430-a']);
    expect(h.state().props.vrdeextpack).toBe('VNC');
    expect(await driver.getVncConsole(a)).toEqual({ type: 'vnc', host: expect.any(String), port: 5900, password: '6294f16b-4f05-4430-a' });
    await expect(driver.getRdpConsole(a)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/serves VNC, not RDP/) });
    expect(driver.capabilities['console.rdp']!.status).toBe('missing');

    const b = instance('vp-vrde-b');
    await driver.spawn(b, image);
    expect(vrdeArgs(h.runner.find('modifyvm', b.uuid)[0]!).slice(0, 4)).toEqual(['--vrde', 'on', '--vrdeport', '5901']);
    expect(h.runner.find('setproperty')).toHaveLength(1);
  });

  it('unique ports are returned on power off and destroy, and re-taken on power on', async () => {
    const driver = h.driver({ remote_display: 'true', vrde_module: 'VNC', vrde_port: '5900-5901', vrde_unique_port: 'true' });
    const a = instance('vp-vrde-a');
    const b = instance('vp-vrde-b');
    await driver.spawn(a, image);
    await driver.spawn(b, image);
    expect(driver.ctx.vrde.pool.heldPorts()).toEqual(new Map([[a.uuid, 5900], [b.uuid, 5901]]));
    await driver.powerOff(a);
    expect(driver.ctx.vrde.pool.portOf(a.uuid)).toBeUndefined();
    const c = instance('vp-vrde-c');
    await driver.spawn(c, image);
    expect(driver.ctx.vrde.pool.portOf(c.uuid)).toBe(5900);
    // a's old port went to c: starting a again must fail clearly and leave it off, not steal the port.
    await expect(driver.powerOn(a)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/No free VRDE port/) });
    expect((await driver.getInfo(a)).state).toBe(4);
    await driver.destroy(b);
    expect(driver.ctx.vrde.pool.portOf(b.uuid)).toBeUndefined();
    h.runner.clear();
    await driver.powerOn(a);
    expect(h.runner.find('modifyvm', a.uuid)).toEqual([['modifyvm', a.uuid, '--vrdeport', '5901']]);
    expect((await driver.getVncConsole(a)).port).toBe(5901);
  });

  it('exhaustion fails the spawn with a clear error and leaves nothing behind', async () => {
    const driver = h.driver({ remote_display: 'true', vrde_module: 'VNC', vrde_port: '5900', vrde_unique_port: 'true' });
    await driver.spawn(instance('vp-vrde-a'), image);
    const b = instance('vp-vrde-b');
    const err = await driver.spawn(b, image).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'conflict', message: expect.stringMatching(/all 1 port\(s\) of \[virtualbox\] vrde_port "5900" are held/) });
    expect(await driver.instanceExists(b)).toBe(false);
    expect(h.state().vms[b.uuid]).toBeUndefined();
  });

  it('a new process learns which ports running machines hold', async () => {
    const settings = { remote_display: 'true', vrde_module: 'VNC', vrde_port: '5900-5902', vrde_unique_port: 'true' };
    const first = h.driver(settings);
    const a = instance('vp-vrde-a');
    await first.spawn(a, image);
    const second = h.driver(settings);
    const b = instance('vp-vrde-b');
    await second.spawn(b, image);
    expect(second.ctx.vrde.pool.portOf(b.uuid)).toBe(5901);
  });

  it('shared ports go round-robin; RDP consoles then carry the instance name for the proxy', async () => {
    const driver = h.driver({ remote_display: 'true', vrde_port: '3389-3390', vrde_unique_port: 'false' });
    const names = ['vp-a', 'vp-b', 'vp-c'];
    const made = names.map((n) => instance(n));
    for (const i of made) await driver.spawn(i, image);
    expect(made.map((i) => vrdeArgs(h.runner.find('modifyvm', i.uuid)[0]!)[3])).toEqual(['3389', '3390', '3389']);
    expect(h.runner.find('setproperty')).toEqual([['setproperty', 'vrdeextpack', 'Oracle VM VirtualBox Extension Pack']]);
    const console0 = await driver.getRdpConsole(made[0]!);
    expect(console0).toMatchObject({ type: 'rdp', port: 3389, internalAccessPath: 'vp-a' });
    await expect(driver.getVncConsole(made[0]!)).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('[rdp] security options become VRDE properties', async () => {
    const driver = h.driver(
      { remote_display: 'true', vrde_port: '3389' },
      { encrypted_rdp: 'true', security_method: 'Negotiate', server_certificate: '/etc/vp/cert.pem', server_private_key: '/etc/vp/key.pem', server_ca: '/etc/vp/ca.pem' },
    );
    const a = instance('vp-rdp');
    await driver.spawn(a, image);
    expect(vrdeArgs(h.runner.find('modifyvm', a.uuid)[0]!)).toEqual([
      '--vrde', 'on', '--vrdeport', '3389',
      '--vrdeproperty', 'Security/Method=Negotiate',
      '--vrdeproperty', 'Security/ServerCertificate=/etc/vp/cert.pem',
      '--vrdeproperty', 'Security/ServerPrivateKey=/etc/vp/key.pem',
      '--vrdeproperty', 'Security/CACertificate=/etc/vp/ca.pem',
    ]);
    expect(h.state().vms[a.uuid].vrde.properties).toEqual({
      'Security/Method': 'Negotiate',
      'Security/ServerCertificate': '/etc/vp/cert.pem',
      'Security/ServerPrivateKey': '/etc/vp/key.pem',
      'Security/CACertificate': '/etc/vp/ca.pem',
    });
  });

  it("a missing pack is a clear error; Oracle's renamed pack is found by its module", async () => {
    h.control({ extpacks: [{ name: 'Oracle VirtualBox Extension Pack', version: '7.1.4', revision: '165100', module: 'VBoxVRDP', usable: true }] });
    const vnc = h.driver({ remote_display: 'true', vrde_module: 'VNC' });
    const err = await vnc.spawn(instance('vp-novnc'), image).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found', message: expect.stringMatching(/extension pack "VNC".*installed: Oracle VirtualBox Extension Pack/) });
    const rdp = h.driver({ remote_display: 'true' });
    await rdp.spawn(instance('vp-renamed'), image);
    expect(h.runner.find('setproperty').at(-1)).toEqual(['setproperty', 'vrdeextpack', 'Oracle VirtualBox Extension Pack']);
  });

  it('with remote_display off: VRDE off, no pack lookup, consoles unsupported', async () => {
    const driver = h.driver();
    const a = instance('vp-off');
    await driver.spawn(a, image);
    expect(vrdeArgs(h.runner.find('modifyvm', a.uuid)[0]!)).toEqual(['--vrde', 'off']);
    expect(h.runner.find('list', 'extpacks')).toHaveLength(0);
    await expect(driver.getVncConsole(a)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/remote_display = true/) });
  });
});
