import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMetadata, child, elements, parseXml, readMetadata, serializeXml } from '../src/xml/index.js';
import { GOLDEN_UUID } from './fixtures/golden-spec.js';
import { LIVE_URI, requireLibvirtd } from './helpers/env.js';
import { goldenXml } from './helpers/golden.js';

/**
 * Golden test against libvirt itself: our generated XML is defined in real libvirtd (never started), and
 * `virsh dumpxml --inactive --security-info` must match the stored fixture (which the unit tests read
 * back). `UPDATE_GOLDEN=1` rewrites the fixtures. Then a read-modify-write through libvirt must keep
 * elements our model does not know.
 */
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const virsh = (...args: string[]) => execFileSync('virsh', ['-c', LIVE_URI, ...args], { stdio: 'pipe' }).toString();
// libvirt generates a fresh Open vSwitch interfaceid on each define.
const normalise = (xml: string) => xml.replace(/interfaceid='[0-9a-f-]+'/g, "interfaceid='*'");
const dir = mkdtempSync(join(tmpdir(), 'vp-lv-golden-'));

function define(xml: string): string {
  const file = join(dir, 'domain.xml');
  writeFileSync(file, xml);
  virsh('define', file);
  return virsh('dumpxml', '--inactive', '--security-info', GOLDEN_UUID);
}

beforeAll(() => {
  requireLibvirtd();
  try {
    virsh('undefine', GOLDEN_UUID); // left over from an interrupted run
  } catch {
    // not defined: the normal case
  }
});

afterAll(() => {
  try {
    virsh('undefine', GOLDEN_UUID);
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('domain XML against real libvirt', () => {
  it("libvirt's dumpxml of our generated XML matches the golden fixture", () => {
    const generated = goldenXml();
    const dump = define(generated);
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(fixture('golden-domain.xml'), generated);
      writeFileSync(fixture('golden-domain.libvirt.xml'), dump);
    }
    expect(generated).toBe(readFileSync(fixture('golden-domain.xml'), 'utf8'));
    expect(normalise(dump)).toBe(normalise(readFileSync(fixture('golden-domain.libvirt.xml'), 'utf8')));
  });

  it('a read-modify-write through libvirt keeps unknown elements and the foreign metadata', () => {
    const first = parseXml(define(goldenXml()));
    const tree = parseXml(serializeXml(first));
    applyMetadata(tree, { rescued: true, extra: { 'vms.note': 'added & kept' } });
    const second = parseXml(define(serializeXml(tree)));
    for (const name of ['title', 'description', 'blkiotune', 'cpu', 'features', 'clock']) {
      expect(serializeXml(child(second, name)!)).toBe(serializeXml(child(first, name)!));
    }
    const devices = (t: typeof first) => elements(child(t, 'devices')!).map((d) => serializeXml(d));
    expect(devices(second).map(normalise)).toEqual(devices(first).map(normalise));
    expect(elements(child(second, 'metadata')!).map((e) => e.name)).toEqual(['virtplug:instance', 'app:info']);
    expect(readMetadata(second)).toMatchObject({ rescued: true, extra: { 'vms.note': 'added & kept', owner: 'a "quoted" <owner> & co' } });
  });
});
