import { CHUNK_SIZE, isZero } from '../util/chunks.js';
import { HandleCache, preadFull } from '../util/files.js';
import type { DiskChanges, Segment } from '../disk/extents.js';
import type { Deduplicator } from './dedup.js';
import { KIND_DISK } from './items.js';
import type { BlobPacker } from './packer.js';

const BLOCK = 1 << 20;

export interface DiskScanInput {
  changes: DiskChanges;
  baseDisk: string;
  baseDiskBytes: number;
  /** Produces a raw copy of the whole captured disk, for ranges map could not place (compressed clusters). */
  fallbackRaw: () => Promise<string>;
  onBytes?: (n: number) => void;
}

/** Reads each changed run block by block, compares chunks with the base, and packs the changed ones. */
export async function scanDisk(input: DiskScanInput, dedup: Deduplicator, packer: BlobPacker): Promise<number> {
  const files = new HandleCache();
  const base = await files.get(input.baseDisk);
  const buf = Buffer.allocUnsafe(BLOCK);
  const baseBuf = Buffer.allocUnsafe(BLOCK);
  let scanned = 0;
  let seg = 0;
  const segs = input.changes.segments;
  try {
    const edge = async (from: number, to: number): Promise<Buffer | null> => {
      const a = Math.max(0, from);
      const b = Math.min(to, input.baseDiskBytes);
      if (b <= a) return null;
      const out = Buffer.alloc(b - a);
      await preadFull(base, out, 0, out.length, a);
      return out;
    };
    for (const [runStart, runLen] of input.changes.runs) {
      // Unchanged base bytes around the run complete the windows that cross its edges.
      let prevTail: Buffer | null = await edge(runStart - CHUNK_SIZE + 1, runStart);
      for (let pos = runStart; pos < runStart + runLen; pos += BLOCK) {
        const len = Math.min(BLOCK, runStart + runLen - pos);
        while (seg < segs.length && segs[seg]!.start + segs[seg]!.length <= pos) seg++;
        await fill(buf, pos, len, segs, seg, files, input.fallbackRaw);
        const baseLen = Math.max(0, Math.min(len, input.baseDiskBytes - pos));
        if (baseLen > 0) await preadFull(base, baseBuf, 0, baseLen, pos);
        baseBuf.fill(0, baseLen, len);
        for (let off = 0; off < len; off += CHUNK_SIZE) {
          const end = Math.min(len, off + CHUNK_SIZE);
          const data = buf.subarray(off, end);
          const b = baseBuf.subarray(off, end);
          if (data.equals(b)) {
            dedup.stats.unchanged_disk++;
            continue;
          }
          await packer.add(dedup.classify(KIND_DISK, pos + off, data, isZero(b) ? null : b));
        }
        dedup.indexDiskWindows(pos, buf.subarray(0, len), prevTail);
        prevTail = Buffer.from(buf.subarray(Math.max(0, len - CHUNK_SIZE + 1), len));
        scanned += len;
        input.onBytes?.(len);
      }
      const after = await edge(runStart + runLen, runStart + runLen + CHUNK_SIZE - 1);
      if (after) dedup.indexDiskWindows(runStart + runLen, after, prevTail);
    }
  } finally {
    await files.close();
  }
  return scanned;
}

async function fill(buf: Buffer, pos: number, len: number, segs: Segment[], from: number, files: HandleCache, fallbackRaw: () => Promise<string>): Promise<void> {
  let at = pos;
  for (let k = from; at < pos + len && k < segs.length; k++) {
    const s = segs[k]!;
    if (s.start + s.length <= at) continue;
    const stop = Math.min(pos + len, s.start + s.length);
    const n = stop - at;
    const src = s.source;
    if ('fallback' in src) {
      await preadFull(await files.get(await fallbackRaw()), buf, at - pos, n, at);
    } else if (src.zero) {
      buf.fill(0, at - pos, at - pos + n);
    } else {
      await preadFull(await files.get(src.file), buf, at - pos, n, src.offset + (at - s.start));
    }
    at = stop;
  }
  if (at < pos + len) buf.fill(0, at - pos, len);
}
