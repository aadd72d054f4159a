import { GOLDEN_SPEC } from '../../test/fixtures/golden-spec.js';
import { buildDomainXml } from './build.js';
import { readDomain } from './read.js';
import { child, elements, parseXml } from './tree.js';

const graphics = (xml: string) => elements(child(parseXml(xml), 'devices')!, 'graphics');

describe('SPICE graphics in the domain XML', () => {
  it('adds an autoport SPICE element after VNC, listening on the console address, and reads it back', () => {
    const spice = { listen: '127.0.0.1', password: 'Abcdefgh23456789' };
    const xml = buildDomainXml({ ...GOLDEN_SPEC, spice });
    expect(xml).toMatch(/<graphics type='spice' autoport='yes' listen='127\.0\.0\.1' passwd='Abcdefgh23456789'>\s*<listen type='address' address='127\.0\.0\.1'\/>\s*<\/graphics>/);
    expect(graphics(xml).map((g) => g.attrs.type)).toEqual(['vnc', 'spice']);
    const view = readDomain(xml);
    expect(view.spec.spice).toEqual(spice);
    expect(view.spec.vnc).toEqual(GOLDEN_SPEC.vnc);
    expect(view.spicePort).toBeUndefined();
  });

  it('escapes a hostile listen address and password; both stay values, no element is injected', () => {
    const listen = `::1' autoport='no'/><graphics type='vnc`;
    const password = `p"w'<&>x/><secret/>`;
    const xml = buildDomainXml({ ...GOLDEN_SPEC, vnc: undefined, spice: { listen, password } });
    expect(xml).toContain("listen='::1&apos; autoport=&apos;no&apos;/&gt;&lt;graphics type=&apos;vnc'");
    expect(xml).toContain("passwd='p&quot;w&apos;&lt;&amp;&gt;x/&gt;&lt;secret/&gt;'");
    const g = graphics(xml);
    expect(g).toHaveLength(1);
    expect(g[0]!.attrs).toMatchObject({ type: 'spice', autoport: 'yes', listen, passwd: password });
    expect(elements(g[0]!, 'listen').map((l) => l.attrs.address)).toEqual([listen]);
    expect(readDomain(xml).spec.spice).toEqual({ listen, password });
  });

  it('a fixed port turns autoport off; no spice key means no SPICE element', () => {
    expect(buildDomainXml({ ...GOLDEN_SPEC, spice: { listen: '0.0.0.0', port: 5999 } })).toContain("<graphics type='spice' port='5999' autoport='no' listen='0.0.0.0'>");
    const plain = buildDomainXml(GOLDEN_SPEC);
    expect(plain).not.toContain("type='spice'");
    expect(readDomain(plain).spec.spice).toBeUndefined();
  });

  it("reads libvirt's live ports (plain and TLS) and ignores -1", () => {
    const live = (attrs: string) => `<domain type='qemu' id='3'><name>x</name><devices><graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'/><graphics type='spice' ${attrs} autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics></devices></domain>`;
    expect(readDomain(live("port='5901' tlsPort='5902'"))).toMatchObject({ vncPort: 5900, spicePort: 5901, spiceTlsPort: 5902 });
    const v = readDomain(live("port='-1'"));
    expect(v.spicePort).toBeUndefined();
    expect(v.spiceTlsPort).toBeUndefined();
    expect(v.spec.spice).toEqual({ listen: '127.0.0.1' });
  });
});
