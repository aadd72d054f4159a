#!/usr/bin/env node
// Launcher for the IOhyp agent. Runs the build (dist/) when there is one; runs the TypeScript source when
// started with --conditions=development (as the lab does) or when no build exists (through tsx).
import { existsSync } from 'node:fs';

const dev = process.execArgv.some((a) => a.includes('development')) || process.env.VIRTPLUG_DEV === '1';
const dist = new URL('../dist/agent/main.js', import.meta.url);
let entry = dist;
if (dev || !existsSync(dist)) {
  if (!process.execArgv.some((a) => a.includes('tsx'))) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  entry = new URL('../src/agent/main.ts', import.meta.url);
}
const { main } = await import(entry.href);
try {
  await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`virtplug-iohyp-agent: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
