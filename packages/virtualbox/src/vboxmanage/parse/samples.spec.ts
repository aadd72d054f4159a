import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sampleNames } from '../../../test/helpers/samples.js';

/** Every stored reference sample is read by some parser or error spec. */
describe('reference §6 samples', () => {
  it('are all covered by a spec', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const specs = ['parse/', ''].flatMap((d) =>
      readdirSync(root + d).filter((n) => n.endsWith('.spec.ts') && n !== 'samples.spec.ts').map((n) => readFileSync(root + d + n, 'utf8')),
    );
    const names = sampleNames();
    expect(names.length).toBe(23);
    expect(names.filter((n) => !specs.some((s) => s.includes(`'${n}'`)))).toEqual([]);
  });
});
