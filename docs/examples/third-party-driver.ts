// Loads a third-party driver by npm package name and checks it with the contract kit, as
// docs/writing-a-driver.md describes. Run: node --import tsx docs/examples/third-party-driver.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDriver, runDriverContract } from '@virtplug/core';

const driver = await loadDriver({ computeDriver: 'virtplug-driver-example' });
const { outcomes, evidencePath } = await runDriverContract(driver, {
  label: 'example',
  image: { id: 'tiny', name: 'tiny', diskFormat: 'raw', path: '/images/tiny.raw' },
  evidence: {
    dir: mkdtempSync(join(tmpdir(), 'example-evidence-')),
    mode: 'in-memory',
    backend: async () => ({ name: 'example', version: '0.1' }),
  },
});
for (const o of outcomes) console.log(`${o.result.padEnd(4)} ${o.name}`);
const count = (r: string) => outcomes.filter((o) => o.result === r).length;
const failed = count('fail');
console.log(`${driver.name}: ${count('pass')} passed, ${failed} failed, ${count('skip')} not claimed; evidence in ${evidencePath}`);
await driver.close();
process.exitCode = failed ? 1 : 0;
