import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDoc } from '../src/config-doc.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/configuration.md', () => {
  it('lists every option the code validates, with its default (regenerate: npm run docs:config)', async () => {
    const expected = await renderConfigurationDoc();
    expect(readFileSync(`${root}docs/configuration.md`, 'utf8').trimEnd()).toBe(expected.trimEnd());
  });
});
