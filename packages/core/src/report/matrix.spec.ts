import { declareCapabilities } from '../capabilities/declarations.js';
import type { EvidenceFile } from '../capabilities/evidence.js';
import { buildMatrix } from './matrix.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';

const caps = declareCapabilities({ 'operation.launch': 'complete', 'operation.pause': 'complete', 'console.vnc': 'partial' });
const ev = (mode: EvidenceFile['mode'], features: EvidenceFile['features'], date = '2026-11-01T00:00:00Z'): EvidenceFile => ({
  schema: 'virtplug.evidence/1',
  driver: 'd',
  mode,
  backend: { name: 'qemu', version: '7.2' },
  date,
  features,
});

describe('capability matrix', () => {
  it('marks cells by the best passing evidence and lists unbacked claims', () => {
    const m = buildMatrix(
      [{ name: 'd', title: 'D', capabilities: caps }],
      [
        ev('live', { 'operation.launch': { result: 'pass' }, 'operation.pause': { result: 'fail', note: 'boom' } }),
        ev('replay', { 'console.vnc': { result: 'pass' }, 'operation.launch': { result: 'pass' } }),
        ev('in-memory', { 'operation.pause': { result: 'pass' } }),
      ],
    );
    const cells = m.drivers[0]!.cells;
    expect(cells['operation.launch']!.evidence).toMatchObject({ kind: 'verified-live', backend: 'qemu 7.2' });
    expect(cells['console.vnc']!.evidence.kind).toBe('verified-replay');
    expect(cells['operation.pause']!.evidence).toMatchObject({ kind: 'declared', result: 'fail', note: 'boom' });
    expect(cells['operation.rescue']!.status).toBe('missing');
    expect(m.unbackedClaims).toEqual([{ driver: 'd', feature: 'operation.pause' }]);
  });

  it('renders markdown rows per feature and escapes HTML', () => {
    const m = buildMatrix([{ name: 'd<x>', title: 'D & co', capabilities: caps }], []);
    const md = renderMarkdown(m);
    expect(md).toContain('| Launch instance | `operation.launch` | mandatory | ✔ complete · D |');
    const html = renderHtml(m, 'now');
    expect(html).toContain('D &amp; co');
    expect(html).toContain('data-driver="d&lt;x&gt;"');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('rejects declarations naming unknown features', () => {
    expect(() => declareCapabilities({ 'operation.fly': 'complete' })).toThrow(/unknown feature id "operation.fly"/);
  });
});
