import { realpath } from 'node:fs/promises';
import { CHUNK_SIZE } from '../util/chunks.js';
import type { ChainLayer, MapEntry, QemuImg } from './qemu-img.js';

/** Where the guest-visible bytes of one disk range come from. */
export type Source = { zero: true } | { zero: false; file: string; offset: number } | { fallback: true };

export interface Segment {
  start: number;
  length: number;
  source: Source;
}

export interface DiskChanges {
  virtualSize: number;
  /** Chunk-aligned runs ([start, length] in bytes) that may differ from the base. */
  runs: Array<[number, number]>;
  /** Every byte of every run, mapped to its source. */
  segments: Segment[];
  /** The base disk was not in the chain: every chunk is compared (slow path, still correct). */
  fullCompare: boolean;
}

async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return p;
  }
}

/**
 * Finds what the layers above the base wrote, from `qemu-img map` of the captured disk: ranges whose
 * depth is above the base layer. No FUSE, no dirty bitmaps: qcow2 allocation is the change log.
 * Data is then read straight from the layer files at the host offsets map reports.
 */
export async function diskChanges(qemu: QemuImg, disk: string, format: string, baseDisk: string): Promise<DiskChanges> {
  const chain = format === 'qcow2' ? await qemu.chain(disk) : [{ filename: await real(disk), format, virtualSize: 0 } as ChainLayer];
  const baseReal = await real(baseDisk);
  const reals = await Promise.all(chain.map((l) => real(l.filename)));
  const baseDepth = reals.indexOf(baseReal);
  const map = await qemu.map(disk, format);
  const virtualSize = map.reduce((end, e) => Math.max(end, e.start + e.length), 0);
  if (baseDepth < 0) {
    return { virtualSize, runs: virtualSize ? [[0, virtualSize]] : [], segments: [{ start: 0, length: virtualSize, source: { fallback: true } }], fullCompare: true };
  }
  const runs: Array<[number, number]> = [];
  for (const e of map) {
    if (e.depth >= baseDepth) continue;
    const s = Math.floor(e.start / CHUNK_SIZE) * CHUNK_SIZE;
    const end = Math.min(virtualSize, Math.ceil((e.start + e.length) / CHUNK_SIZE) * CHUNK_SIZE);
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] >= s) last[1] = Math.max(last[1], end - last[0]);
    else runs.push([s, end - s]);
  }
  return { virtualSize, runs, segments: segmentsFor(runs, map, chain), fullCompare: false };
}

function sourceOf(e: MapEntry, chain: ChainLayer[], at: number): Source {
  if (!e.present || (e.zero && !e.data)) return { zero: true };
  const layer = chain[e.depth];
  if (e.data && e.offset !== undefined && layer && (layer.format === 'qcow2' || layer.format === 'raw')) {
    return { zero: false, file: layer.filename, offset: e.offset + (at - e.start) };
  }
  if (e.zero) return { zero: true };
  return { fallback: true };
}

/** Intersects the runs with the map so every run byte has a source (including unchanged base bytes). */
export function segmentsFor(runs: ReadonlyArray<readonly [number, number]>, map: MapEntry[], chain: ChainLayer[]): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  for (const [rs, rl] of runs) {
    let pos = rs;
    const end = rs + rl;
    while (i < map.length && map[i]!.start + map[i]!.length <= pos) i++;
    let j = i;
    while (pos < end) {
      const e = map[j];
      if (!e || e.start > pos) {
        // A hole past the end of the map: reads as zeros.
        const stop = e ? Math.min(end, e.start) : end;
        out.push({ start: pos, length: stop - pos, source: { zero: true } });
        pos = stop;
        continue;
      }
      const stop = Math.min(end, e.start + e.length);
      out.push({ start: pos, length: stop - pos, source: sourceOf(e, chain, pos) });
      pos = stop;
      if (pos >= e.start + e.length) j++;
    }
  }
  return out;
}
