/**
 * VMS soak: `npm run soak -- vms [--cycles 100] [--mode shared|copy] [--max-minutes 60]`.
 * Each cycle blesses one running guest, launches 3 clones, deletes them and discards the live image;
 * at the end there must be no leftover domain, file or record. Prints ONE JSON object; exit 1 on a leak.
 * Run directly: npx tsx --conditions=development tools/soak/vms.ts --cycles 5
 */
import { bootSource, makeEnv, teardown } from '../../packages/libvirt/test/vms/support.js';
import { soakVms } from './lib/vms-loop.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const cycles = Number(arg('cycles', '100'));
const mode = arg('mode', 'shared');
const maxMinutes = Number(arg('max-minutes', '60'));
if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`--cycles ${cycles}: expected an integer >= 1`);
if (mode !== 'shared' && mode !== 'copy') throw new Error(`--mode ${mode}: expected shared or copy`);

const env = await makeEnv('soak', mode);
let ok = false;
try {
  const source = await bootSource(env, 'vp-vms-soak-src');
  const result = await soakVms(env, source, { cycles, maxMs: maxMinutes * 60_000, log: (l) => process.stderr.write(`${l}\n`) });
  ok = result.ok;
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await teardown(env);
}
process.exit(ok ? 0 : 1);
