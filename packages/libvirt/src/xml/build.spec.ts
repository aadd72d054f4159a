import { InvalidArgumentError } from '@virtplug/core';
import { GOLDEN_SPEC } from '../../test/fixtures/golden-spec.js';
import { buildDomainXml, diskElement } from './build.js';
import { validateDomainName, validateUuid } from './names.js';
import { readDomain } from './read.js';
import { escapeXml, parseXml, serializeXml } from './tree.js';

describe('XML escaping', () => {
  it('escapes the five special characters in text and attributes', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    const xml = buildDomainXml({ ...GOLDEN_SPEC, name: `x "y" <z> & 'w'`, disks: [], interfaces: [] });
    expect(xml).toContain('<name>x &quot;y&quot; &lt;z&gt; &amp; &apos;w&apos;</name>');
    expect(readDomain(xml).spec.name).toBe(`x "y" <z> & 'w'`);
  });

  it('an injection attempt in a value stays a value', () => {
    const evil = `/tmp/a'/><source file='/etc/shadow`;
    const xml = serializeXml(diskElement({ kind: 'file', path: evil, format: 'raw', target: 'vdb' }));
    const disk = parseXml(xml);
    expect(disk.children.filter((c) => 'name' in c && c.name === 'source')).toHaveLength(1);
    expect(readDomain(`<domain><devices>${xml}</devices></domain>`).spec.disks[0]).toMatchObject({ path: evil });
  });

  it('refuses characters XML cannot carry', () => {
    expect(() => buildDomainXml({ ...GOLDEN_SPEC, os: { ...GOLDEN_SPEC.os, cmdline: 'a\u0001b' } })).toThrow(InvalidArgumentError);
  });
});

describe('instance names and UUIDs', () => {
  it.each([['vp-lv-a'], ['with space'], [`quote"s`], ['a<b>'], ['a&b'], ['ünïcødé'], ['x'.repeat(64)]])('accepts %j (escaped wherever it goes)', (name) => {
    expect(validateDomainName(name)).toBe(name);
  });

  it.each([
    ['', 'instance name'],
    ['../etc', "contains '/'"],
    ['a..b', "contains '..'"],
    ['a/b', "contains '/'"],
    ['a\nb', 'control character'],
    ['tab\there', 'control character'],
    [' lead', 'whitespace'],
    ['x'.repeat(65), '65 characters'],
  ])('refuses %j with a clear InvalidArgumentError (%s)', (name, why) => {
    let err: unknown;
    try {
      validateDomainName(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).toContain('expected 1–64 printable characters');
  });

  it('accepts only canonical UUIDs (they become directory names)', () => {
    expect(validateUuid('3B0C3B2E-5D0A-4C43-9A55-6C9F1D2E7A10')).toBe('3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10');
    expect(() => validateUuid('../../etc')).toThrow(InvalidArgumentError);
    expect(() => validateUuid('3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10/..')).toThrow(InvalidArgumentError);
  });
});

describe('domain XML generation', () => {
  it('generates direct kernel boot, serial log, agent channel, VNC and balloon', () => {
    const v = readDomain(buildDomainXml(GOLDEN_SPEC));
    expect(v.spec.os).toMatchObject({ kernel: GOLDEN_SPEC.os.kernel, initrd: GOLDEN_SPEC.os.initrd, cmdline: GOLDEN_SPEC.os.cmdline });
    expect(v.spec.serialLog).toBe(GOLDEN_SPEC.serialLog);
    expect(v.spec.agentSocket).toBe(GOLDEN_SPEC.agentSocket);
    expect(v.spec.vnc).toEqual(GOLDEN_SPEC.vnc);
    expect(v.spec.memballoon).toBe(true);
  });

  it('puts the agent channel on a 4-port virtio-serial controller, and adds none without a channel', () => {
    expect(buildDomainXml(GOLDEN_SPEC)).toContain("<controller type='virtio-serial' index='0' ports='4'/>");
    const { agentSocket: _a, ...noAgent } = GOLDEN_SPEC;
    expect(buildDomainXml(noAgent)).not.toContain('virtio-serial');
  });

  it('boots from disk when there is no kernel, and omits the machine type for test domains', () => {
    const xml = buildDomainXml({ ...GOLDEN_SPEC, type: 'test', os: {} });
    expect(xml).toContain("<boot dev='hd'/>");
    expect(xml).toContain("<type arch='x86_64'>hvm</type>");
  });

  it.each([
    [{ memoryKb: 0 }, 'memory'],
    [{ vcpus: 1.5 }, 'vCPU count'],
    [{ uuid: 'nope' }, 'instance UUID'],
    [{ name: 'a/b' }, 'instance name'],
  ])('refuses %j', (patch, what) => {
    expect(() => buildDomainXml({ ...GOLDEN_SPEC, ...patch })).toThrow(what);
  });

  it('validates disk targets, serials and MACs', () => {
    expect(() => diskElement({ kind: 'file', path: '/a', format: 'raw', target: 'vd1' })).toThrow(/disk target device/);
    expect(() => diskElement({ kind: 'file', path: '/a', format: 'raw', target: 'vdb', serial: 'has space' })).toThrow(/disk serial/);
    expect(() => diskElement({ kind: 'file', path: 'rel', format: 'raw', target: 'vdb' })).toThrow(/absolute path/);
    expect(() => buildDomainXml({ ...GOLDEN_SPEC, interfaces: [{ kind: 'user', mac: 'zz' }] })).toThrow(/MAC address/);
  });
});
