import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyMetadata } from './metadata.js';
import { quickFacts, readDomain } from './read.js';
import { parseXml, serializeXml } from './tree.js';

const dump = readFileSync(fileURLToPath(new URL('../../test/fixtures/golden-domain.libvirt.xml', import.meta.url)), 'utf8');

describe('quickFacts (getInfo without a full parse)', () => {
  it('agrees with the full parse on libvirt output, entities included', () => {
    expect(quickFacts(dump)).toEqual({ name: readDomain(dump).spec.name, rescued: false });
    expect(quickFacts(dump).name).toBe('vp-lv-golden "q" <a> & b');
  });

  it('reads the live id from the root tag', () => {
    expect(quickFacts(dump.replace("<domain type='qemu'>", "<domain type='qemu' id='42'>")).id).toBe(42);
  });

  it('sees the rescue flag in our metadata, and not the word elsewhere', () => {
    const tree = parseXml(dump);
    applyMetadata(tree, { rescued: true });
    expect(quickFacts(serializeXml(tree)).rescued).toBe(true);
    expect(quickFacts(dump.replace('kept by round trips', 'not rescued')).rescued).toBe(false);
  });

  it('falls back to the full parse for XML that does not start with <name>', () => {
    expect(quickFacts("<domain type='test'><uuid>x</uuid><name>a&amp;b</name></domain>")).toEqual({ name: 'a&b', rescued: false });
  });
});
