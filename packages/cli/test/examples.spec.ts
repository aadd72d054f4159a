import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const examples = readdirSync(`${root}docs/examples`).filter((f) => f.endsWith('.ts'));

/** Every runnable example in docs/examples runs, exits 0 and writes nothing to stderr. */
describe('docs/examples', () => {
  it('has examples', () => {
    expect(examples).toEqual(expect.arrayContaining(['library-basics.ts', 'third-party-driver.ts']));
  });

  for (const file of examples) {
    it(`${file} runs`, async () => {
      const r = await execa('node', ['--conditions=development', '--import', 'tsx', `docs/examples/${file}`], {
        cwd: root,
        reject: false,
        timeout: 600_000,
      });
      expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit: 0, stderr: '' });
      expect(r.stdout.length).toBeGreaterThan(0);
    }, 620_000);
  }
});
