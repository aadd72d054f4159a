import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderMarkdown } from '@virtplug/core';
import { loadMatrix } from '../src/matrix-source.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/capability-matrix.md', () => {
  it('is what `virtplug matrix --format md` generates now (regenerate it with `npm run matrix:docs`)', async () => {
    const expected = renderMarkdown(await loadMatrix(`${root}docs/evidence`));
    const actual = readFileSync(`${root}docs/capability-matrix.md`, 'utf8');
    expect(actual.trimEnd()).toBe(expected.trimEnd());
  });
});
