import type { InstanceRef } from '@virtplug/core';
import { virsh, vmsLeftovers, type VmsEnv } from '../../../packages/libvirt/test/vms/support.js';

export interface SoakOptions {
  cycles: number;
  /** Stop starting new cycles after this many ms (the loop is bounded in time). */
  maxMs: number;
  clonesPerCycle?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  name: 'vms';
  mode: string;
  cycles_requested: number;
  cycles_done: number;
  clones_launched: number;
  elapsed_ms: number;
  cycle_ms_median: number;
  cycle_ms_max: number;
  /** Domains, files and records left at the end (besides the source and its own RAM file): must be empty. */
  leftovers: string[];
  ok: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : 0;
};

/**
 * The VMS soak: bless, launch x3, delete the clones, discard, over and over on one source, checking
 * after each cycle that the cycle left nothing, and at the end that nothing at all is left.
 */
export async function soakVms(env: VmsEnv, source: InstanceRef, o: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const times: number[] = [];
  const seen: string[] = [];
  const per = o.clonesPerCycle ?? 3;
  const leaks: string[] = [];
  for (let i = 1; i <= o.cycles && Date.now() - started < o.maxMs; i++) {
    const t0 = Date.now();
    const blessed = await env.vms.bless(source.uuid);
    const clones = await blessed.launch({ count: per, params: { cycle: String(i) } });
    seen.push(...clones.map((c) => c.uuid));
    for (const c of clones) await c.delete();
    await blessed.discard();
    const left = vmsLeftovers(env, clones.map((c) => c.uuid)).filter((p) => !p.endsWith(`${source.uuid}.ram`));
    if (left.length) leaks.push(`cycle ${i}: ${left.join(', ')}`);
    times.push(Date.now() - t0);
    o.log?.(`cycle ${i}: ${times.at(-1)} ms${left.length ? `, LEFT: ${left.join(', ')}` : ''}`);
  }
  const names = virsh('list', '--all', '--name').split('\n').map((l) => l.trim()).filter((n) => n.startsWith(`${source.name}-`));
  const leftovers = [...leaks, ...names.map((n) => `domain ${n}`), ...vmsLeftovers(env, seen).filter((p) => !p.endsWith(`${source.uuid}.ram`))];
  return {
    name: 'vms',
    mode: env.mode,
    cycles_requested: o.cycles,
    cycles_done: times.length,
    clones_launched: seen.length,
    elapsed_ms: Date.now() - started,
    cycle_ms_median: median(times),
    cycle_ms_max: Math.max(0, ...times),
    leftovers,
    ok: leftovers.length === 0 && times.length > 0,
  };
}
