/**
 * A synthesis in its own process, for the "killed midway" test: prints each progress phase as a JSON
 * line so the parent can kill it at a chosen point. argv: statePath baseDir source name ramDir
 */
import { liveEnv } from './live.js';

const [statePath, baseDir, source, name, ramDir] = process.argv.slice(2);
const env = await liveEnv('child', { base_dir: baseDir!, ram_dir: ramDir! }, statePath);
const cloudlet = env.cloudlet;
let last = '';
await cloudlet.synthesize({
  source: source!,
  name: name!,
  onProgress: (p) => {
    if (p.phase !== last) {
      last = p.phase;
      process.stdout.write(JSON.stringify({ phase: p.phase, done: p.done, total: p.total }) + '\n');
    }
  },
});
process.stdout.write(JSON.stringify({ phase: 'done' }) + '\n');
await env.close();
