import { parseExtPacks } from '../vboxmanage/parse/extpacks.js';
import { sample } from '../../test/helpers/samples.js';
import { protocolForModule, selectExtPack } from './extpack.js';
import { vrdePassword } from './password.js';
import { VrdePortPool } from './port-pool.js';
import { isValidPortSpec, parsePortSpec } from './port-spec.js';
import { vrdeModifyArgs } from './vrde-args.js';

const RDP = { enabled: false, encrypted_rdp: false, security_method: 'RDP' as const, server_certificate: null, server_private_key: null, server_ca: null };

describe('vrde_port specs', () => {
  it('keeps the nova-virtualbox _get_ports vectors', () => {
    expect(parsePortSpec('1')).toEqual([1]);
    expect(parsePortSpec('2, 3')).toEqual([3, 2]);
    expect(parsePortSpec('6, 7-8, 4, 5')).toEqual([8, 7, 6, 5, 4]);
    expect(parsePortSpec('4-5, 4-5, 4, 5')).toEqual([5, 4]);
    expect(parsePortSpec('a, 5')).toEqual([5]);
    expect(parsePortSpec('a-d, 2')).toEqual([2]);
  });

  it('validates configuration strictly', () => {
    for (const ok of ['3389', '5900-6000', '6, 7-8', '1,65535']) expect([ok, isValidPortSpec(ok)]).toEqual([ok, true]);
    for (const bad of ['', 'a, 5', '0', '65536', '6000-5900', '5900-', '1,,2']) expect([bad, isValidPortSpec(bad)]).toEqual([bad, false]);
  });
});

describe('VRDE port pool', () => {
  it('unique: lowest free port per instance, the same port on asking again, returned on release', () => {
    const pool = new VrdePortPool('5900-5901', true);
    expect(pool.acquire('a')).toBe(5900);
    expect(pool.acquire('b')).toBe(5901);
    expect(pool.acquire('a')).toBe(5900);
    expect(pool.release('a')).toBe(5900);
    expect(pool.acquire('c')).toBe(5900);
  });

  it('unique: exhaustion is a clear conflict naming the setting', () => {
    const pool = new VrdePortPool('5900', true);
    pool.acquire('a');
    let err: unknown;
    try {
      pool.acquire('b');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'conflict' });
    expect((err as Error).message).toMatch(/No free VRDE port.*vrde_port "5900".*widen vrde_port/);
  });

  it('shared: round-robin, ports may be shared', () => {
    const pool = new VrdePortPool('6, 7-8', false);
    expect(['a', 'b', 'c', 'd'].map((id) => pool.acquire(id))).toEqual([6, 7, 8, 6]);
  });

  it('seeds ports held by machines of an earlier process, ignoring ports outside the pool', () => {
    const pool = new VrdePortPool('5900-5902', true);
    pool.seed('old', 5900);
    pool.seed('alien', 4000);
    expect(pool.acquire('new')).toBe(5901);
  });
});

describe('VRDE password', () => {
  const uuid = '6294f16b-4f05-4430-afb9-773bdb237aec';
  it('is the instance UUID, cut to vrde_password_length, only when required', () => {
    expect(vrdePassword(uuid, { vrde_require_instance_uuid_as_password: true, vrde_password_length: 20 })).toBe('6294f16b-4f05-4430-a');
    expect(vrdePassword(uuid, { vrde_require_instance_uuid_as_password: true, vrde_password_length: null })).toBe(uuid);
    expect(vrdePassword(uuid, { vrde_require_instance_uuid_as_password: false, vrde_password_length: 20 })).toBeUndefined();
  });
});

describe('extension pack selection', () => {
  const both = parseExtPacks(
    'Extension Packs: 2\nPack no. 0:   Oracle VM VirtualBox Extension Pack\nVRDE Module:  VBoxVRDP\nUsable:       true\n\nPack no. 1:   VNC\nVRDE Module:  VBoxVNC\nUsable:       true\n',
  );
  it('chooses by name, case-insensitively', () => {
    expect(selectExtPack(both, 'vnc')).toMatchObject({ pack: { name: 'VNC' }, protocol: 'vnc' });
    expect(selectExtPack(both, 'Oracle VM VirtualBox Extension Pack')).toMatchObject({ pack: { index: 0 }, protocol: 'rdp' });
  });

  it("finds Oracle's renamed pack by its VRDE module", () => {
    const renamed = parseExtPacks(sample('S7-list-extpacks-7.0.12.txt').replace('Oracle VM VirtualBox', 'Oracle VirtualBox'));
    expect(selectExtPack(renamed, 'Oracle VM VirtualBox Extension Pack')).toMatchObject({ pack: { name: 'Oracle VirtualBox Extension Pack' }, protocol: 'rdp' });
  });

  it('never chooses an unusable or missing pack', () => {
    const unusable = both.map((p) => ({ ...p, usable: p.name !== 'VNC' }));
    expect(selectExtPack(unusable, 'VNC')).toBeUndefined();
    expect(selectExtPack(parseExtPacks(sample('S7-list-extpacks-4.3.4.txt')), 'VNC')).toBeUndefined();
    expect(protocolForModule('VNC')).toBe('vnc');
    expect(protocolForModule('Oracle VM VirtualBox Extension Pack')).toBe('rdp');
  });
});

describe('VRDE modifyvm arguments', () => {
  it('VNC: port and VNCPassword', () => {
    expect(vrdeModifyArgs({ port: 5900, protocol: 'vnc', password: 'secret', rdp: RDP })).toEqual([
      '--vrde', 'on', '--vrdeport', '5900', '--vrdeproperty', 'VNCPassword=secret',
    ]);
  });

  it('RDP: security method and certificates from [rdp] when encrypted_rdp', () => {
    expect(vrdeModifyArgs({ port: 3389, protocol: 'rdp', rdp: RDP })).toEqual(['--vrde', 'on', '--vrdeport', '3389']);
    expect(vrdeModifyArgs({ port: 3389, protocol: 'rdp', rdp: { ...RDP, encrypted_rdp: true } })).toEqual([
      '--vrde', 'on', '--vrdeport', '3389', '--vrdeproperty', 'Security/Method=RDP',
    ]);
    const tls = { ...RDP, encrypted_rdp: true, security_method: 'TLS' as const, server_certificate: '/c.pem', server_private_key: '/k.pem', server_ca: '/ca.pem' };
    expect(vrdeModifyArgs({ port: 3389, protocol: 'rdp', password: 'ignored-for-rdp', rdp: tls })).toEqual([
      '--vrde', 'on', '--vrdeport', '3389',
      '--vrdeproperty', 'Security/Method=TLS',
      '--vrdeproperty', 'Security/ServerCertificate=/c.pem',
      '--vrdeproperty', 'Security/ServerPrivateKey=/k.pem',
      '--vrdeproperty', 'Security/CACertificate=/ca.pem',
    ]);
  });
});
