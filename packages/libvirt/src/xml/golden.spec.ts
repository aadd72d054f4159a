import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goldenXml } from '../../test/helpers/golden.js';
import { GOLDEN_METADATA, GOLDEN_SPEC } from '../../test/fixtures/golden-spec.js';
import { applyMetadata, readMetadata } from './metadata.js';
import { readDomain } from './read.js';
import { child, elements, parseXml, serializeXml } from './tree.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url)), 'utf8');
// Written by test/xml-golden.spec.ts from real libvirt 9.0 (`virsh dumpxml --inactive --security-info`).
const generated = fixture('golden-domain.xml');
const libvirtDump = fixture('golden-domain.libvirt.xml');

describe('golden domain XML', () => {
  it('the builder still generates the XML that was defined in libvirt', () => {
    expect(goldenXml()).toBe(generated);
  });

  it("reads libvirt's dumpxml back into the spec we generated (modulo libvirt's own expansions)", () => {
    const spec = readDomain(libvirtDump).spec;
    expect(spec.os.machine).toMatch(/^pc-i440fx-/);
    expect(spec.emulator).toBe('/usr/bin/qemu-system-x86_64');
    const { cpuMode: _c, ...expected } = GOLDEN_SPEC;
    expect({ ...spec, os: { ...spec.os, machine: 'pc' }, emulator: undefined }).toEqual({ ...expected, emulator: undefined });
  });

  it("reads our metadata from libvirt's dumpxml", () => {
    expect(readMetadata(parseXml(libvirtDump))).toEqual({
      flavor: GOLDEN_METADATA.flavor,
      image: GOLDEN_METADATA.image,
      createdAt: GOLDEN_METADATA.createdAt,
      extra: GOLDEN_METADATA.extra,
    });
  });

  it('a parse → serialize round trip of the dump keeps every element, attribute and text', () => {
    const tree = parseXml(libvirtDump);
    expect(parseXml(serializeXml(tree))).toEqual(tree);
  });

  it('a metadata edit keeps unknown elements, device order and the foreign metadata namespace', () => {
    const tree = parseXml(libvirtDump);
    applyMetadata(tree, { rescued: true, extra: { owner: null, added: 'x' } });
    const again = parseXml(serializeXml(tree));
    for (const name of ['title', 'description', 'blkiotune', 'cpu', 'resource', 'seclabel']) {
      expect(child(again, name) !== undefined).toBe(child(parseXml(libvirtDump), name) !== undefined);
    }
    const order = (x: typeof again) => elements(child(x, 'devices')!).map((d) => `${d.name}:${d.attrs.type ?? ''}`);
    expect(order(again)).toEqual(order(parseXml(libvirtDump)));
    expect(elements(child(again, 'metadata')!).map((e) => e.name)).toEqual(['virtplug:instance', 'app:info']);
    expect(readMetadata(again)).toMatchObject({ rescued: true, extra: { 'vms.blessed_from': 'none', added: 'x' } });
    expect(readMetadata(again)!.extra.owner).toBeUndefined();
  });
});
