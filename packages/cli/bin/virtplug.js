#!/usr/bin/env node
// Runs the built CLI; `npm run build` (or tools/setup.sh) produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('virtplug: the CLI is not built yet; run `npm run build` (or `bash tools/setup.sh`) first.\n');
  process.exit(2);
}
const { run } = await import(entry.href);
process.exitCode = await run(process.argv.slice(2));
