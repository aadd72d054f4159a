/**
 * Runs one VMS operation in its own process, for the SIGKILL tests: node --import tsx crash-child.ts
 * '<json: {paths, mode, op, id, count}>'. Prints "started" first, then "done" if not killed.
 */
import { attachToEnv } from './support.js';

const spec = JSON.parse(process.argv[2]!) as {
  paths: { statePath: string; ramDir: string; runDir: string };
  mode: 'shared' | 'copy';
  op: 'bless' | 'launch';
  id: string;
  count?: number;
};
const env = await attachToEnv(spec.paths, spec.mode);
process.stdout.write('started\n');
if (spec.op === 'bless') await env.vms.bless(spec.id);
else await env.vms.launch(spec.id, { count: spec.count ?? 1 });
process.stdout.write('done\n');
await env.driver.close();
