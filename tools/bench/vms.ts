/**
 * VMS benchmark: `npm run bench -- vms` prints ONE JSON object, {"shared": {...}, "copy": {...}}, both
 * modes measured side by side in one run on the same guests (the copy-mode image is blessed from the
 * same running source with mode 'copy'). Times are medians. Fields (docs/vms.md):
 *   guest_ram_mib, cold_boot_ms (power on -> agent answers), launch_ms (launch -> clone agent answers),
 *   launch_ratio, launch_ms_1gib, ram_scaling, clone_private_mib (anonymous memory of an idle clone's
 *   QEMU: its own overhead plus every guest page it holds privately; the guest had 256 MiB filled
 *   before bless), clone_private_fraction (of 1 GiB), bless_pause_ms, clones.
 * Run: npx tsx --conditions=development tools/bench/vms.ts
 */
import { readFileSync } from 'node:fs';
import type { InstanceRef } from '@virtplug/core';
import { agentRequest, bootSourceTimed, makeEnv, teardown, type VmsEnv } from '../../packages/libvirt/test/vms/support.js';

type Mode = 'shared' | 'copy';
const MODES: Mode[] = ['shared', 'copy'];
const CLONES = 5;
const CLONES_1GIB = 3;
const BLESSES = 3;
const FILL_MIB = 256;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const log = (s: string) => process.stderr.write(`[bench vms] ${s}\n`);

function anonymousMiB(name: string): number {
  const pid = readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim();
  const kb = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

interface ModeRun {
  launchMs: number[];
  pauseMs: number[];
  privateMiB: number[];
}

/** Blesses the source in `mode` (a few times, for the pause), launches `n` clones one by one, measures, cleans up. */
async function run(env: VmsEnv, source: InstanceRef, mode: Mode, n: number, measureMemory: boolean): Promise<ModeRun> {
  const out: ModeRun = { launchMs: [], pauseMs: [], privateMiB: [] };
  for (let i = 1; i < BLESSES; i++) {
    const b = await env.vms.bless(source.uuid, { mode });
    out.pauseMs.push(b.pauseMs ?? 0);
    await b.discard();
  }
  const blessed = await env.vms.bless(source.uuid, { mode });
  out.pauseMs.push(blessed.pauseMs ?? 0);
  const clones = [];
  try {
    for (let i = 0; i < n; i++) {
      const [c] = await blessed.launch();
      clones.push(c!);
      out.launchMs.push(c!.launchMs);
      log(`${mode}: clone ${i + 1} agent answered after ${c!.launchMs} ms (restore ${c!.restoreMs} ms)`);
    }
    if (measureMemory) {
      await new Promise((r) => setTimeout(r, 5_000)); // idle
      for (const c of clones) out.privateMiB.push(anonymousMiB(c.name));
    }
  } finally {
    for (const c of clones) await c.delete();
    await blessed.discard();
  }
  return out;
}

const env = await makeEnv('bench', 'shared');
try {
  log('cold boots of the 256 MiB guest');
  const boots: number[] = [];
  let source: InstanceRef | undefined;
  for (let i = 0; i < 3; i++) {
    const b = await bootSourceTimed(env, `vp-vms-bench-src${i}`, 256);
    boots.push(b.bootMs);
    if (i === 0) source = b.ref;
    else await env.vms.deleteInstance(b.ref);
  }
  const small: Record<Mode, ModeRun> = { shared: await run(env, source!, 'shared', CLONES, false), copy: await run(env, source!, 'copy', CLONES, false) };
  await env.vms.deleteInstance(source!);

  log('1 GiB guest, 256 MiB of it filled');
  const big = (await bootSourceTimed(env, 'vp-vms-bench-1g', 1024)).ref;
  await agentRequest(env, big, 'workload', { name: 'fill-memory', mib: FILL_MIB, seed: 3 });
  const large: Record<Mode, ModeRun> = { shared: await run(env, big, 'shared', CLONES_1GIB, true), copy: await run(env, big, 'copy', CLONES_1GIB, true) };
  await env.vms.deleteInstance(big);

  const result: Record<string, unknown> = {};
  for (const mode of MODES) {
    const launch = median(small[mode].launchMs);
    const launch1g = median(large[mode].launchMs);
    const priv = median(large[mode].privateMiB);
    result[mode] = {
      mode,
      guest_ram_mib: 256,
      cold_boot_ms: median(boots),
      launch_ms: launch,
      launch_ratio: round(launch / median(boots)),
      launch_ms_1gib: launch1g,
      ram_scaling: round(launch1g / launch),
      clone_private_mib: Math.round(priv),
      clone_private_fraction: round(priv / 1024),
      bless_pause_ms: median(small[mode].pauseMs),
      clones: small[mode].launchMs.length + large[mode].launchMs.length,
    };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await teardown(env);
}
