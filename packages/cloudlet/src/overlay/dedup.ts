import { readFile } from 'node:fs/promises';
import { CHUNK_SIZE, isZero } from '../util/chunks.js';
import { sha256 } from '../util/hash.js';
import {
  KIND_DISK,
  KIND_MEMORY,
  REF_BASE_DISK,
  REF_BASE_MEM,
  REF_RAW,
  REF_SELF,
  REF_XOR,
  REF_ZEROS,
  type ChunkKind,
  type DeltaItem,
} from './items.js';
import type { OverlayStats } from './manifest.js';

/** SHA-256 → first chunk offset holding it. Keys are the 32 digest bytes as a latin1 string. */
export type HashIndex = Map<string, number>;

const ZERO_KEY = sha256(Buffer.alloc(CHUNK_SIZE)).toString('latin1');

/** Loads a hash list (32 bytes per chunk, in chunk order) into an index of first occurrences. */
export async function loadHashIndex(path: string): Promise<HashIndex> {
  const buf = await readFile(path);
  const index: HashIndex = new Map();
  for (let i = 0, off = 0; off + 32 <= buf.length; i++, off += 32) {
    const key = buf.toString('latin1', off, off + 32);
    // Zero chunks never resolve to a base reference (a ZEROS item is smaller), so skip them.
    if (key !== ZERO_KEY && !index.has(key)) index.set(key, i * CHUNK_SIZE);
  }
  return index;
}

export function emptyStats(): OverlayStats {
  return { memory_chunks: 0, disk_chunks: 0, unchanged_memory: 0, unchanged_disk: 0, zero: 0, base_mem: 0, base_disk: 0, self: 0, xor: 0, raw: 0, scanned_bytes: 0 };
}

export interface DedupOptions {
  baseMemory: HashIndex;
  baseDisk: HashIndex;
  /** Try XOR against the base chunk at the same offset (kept when it is mostly zeros). */
  xor: boolean;
  /**
   * Stride of the 4 KiB windows of the new disk content that memory pages may match (elijah hashed
   * disks at every 512-byte offset). Filesystems with 1 KiB blocks put file data at 1 KiB
   * alignment, so a file's page-cache pages match the disk only at such offsets. 4096 = aligned only.
   */
  windowStride?: number;
}

/**
 * elijah's dedup order for one changed chunk: zero → base memory → base disk → self → (xor) → raw.
 * The first occurrence of a content becomes the pivot; memory is scanned first, so a page that is
 * also on disk is stored once, as memory, as the paper recommends.
 */
export class Deduplicator {
  readonly stats = emptyStats();
  private readonly self = new Map<string, [ChunkKind, number]>();
  /** 4 KiB windows of the new disk content at `windowStride` offsets → first disk offset. */
  private readonly windows: HashIndex = new Map();

  constructor(private readonly opts: DedupOptions) {}

  /**
   * Indexes the unaligned 4 KiB windows of a block of final disk content starting at `offset` (and
   * the tail of the previous block, passed as `prev`, for windows crossing the boundary). Disk is
   * scanned before memory, so these windows are rebuilt before any memory item refers to them.
   */
  indexDiskWindows(offset: number, block: Buffer, prev: Buffer | null): void {
    const stride = this.opts.windowStride ?? CHUNK_SIZE;
    if (stride >= CHUNK_SIZE) return;
    const data = prev ? Buffer.concat([prev, block]) : block;
    const base = offset - (prev?.length ?? 0);
    // Windows sit at absolute offsets that are multiples of the stride (where filesystem blocks are).
    for (let o = (stride - (base % stride)) % stride; o + CHUNK_SIZE <= data.length; o += stride) {
      if ((base + o) % CHUNK_SIZE === 0) continue;
      const w = data.subarray(o, o + CHUNK_SIZE);
      if (isZero(w)) continue;
      const key = sha256(w).toString('latin1');
      if (!this.windows.has(key)) this.windows.set(key, base + o);
    }
  }

  classify(kind: ChunkKind, offset: number, data: Buffer, base: Buffer | null): DeltaItem {
    const length = data.length;
    if (kind === KIND_MEMORY) this.stats.memory_chunks++;
    else this.stats.disk_chunks++;
    if (isZero(data)) {
      this.stats.zero++;
      return { kind, ref: REF_ZEROS, offset, length };
    }
    const key = sha256(data).toString('latin1');
    if (length === CHUNK_SIZE) {
      const m = this.opts.baseMemory.get(key);
      if (m !== undefined) {
        this.stats.base_mem++;
        return { kind, ref: REF_BASE_MEM, offset, length, source: m };
      }
      const d = this.opts.baseDisk.get(key);
      if (d !== undefined) {
        this.stats.base_disk++;
        return { kind, ref: REF_BASE_DISK, offset, length, source: d };
      }
    }
    const pivot = this.self.get(key);
    if (pivot !== undefined) {
      this.stats.self++;
      return { kind, ref: REF_SELF, offset, length, pivotKind: pivot[0], pivot: pivot[1] };
    }
    const win = length === CHUNK_SIZE ? this.windows.get(key) : undefined;
    if (win !== undefined) {
      this.stats.self++;
      return { kind, ref: REF_SELF, offset, length, pivotKind: KIND_DISK, pivot: win };
    }
    this.self.set(key, [kind, offset]);
    if (this.opts.xor && base && base.length === length && !isZero(base)) {
      const x = xorIfWorthIt(data, base);
      if (x) {
        this.stats.xor++;
        return { kind, ref: REF_XOR, offset, length, data: x };
      }
    }
    this.stats.raw++;
    return { kind, ref: REF_RAW, offset, length, data };
  }
}

/**
 * XOR with the base chunk; worth it when at least half the result is zero bytes (a partly changed
 * page), which the compressor then squeezes. Random-vs-random XOR is no better than raw, so skip it.
 */
export function xorIfWorthIt(data: Buffer, base: Buffer): Buffer | null {
  const out = Buffer.allocUnsafe(data.length);
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]! ^ base[i]!;
    out[i] = v;
    if (v === 0) zeros++;
  }
  return zeros * 2 >= data.length ? out : null;
}

export function xorInto(target: Buffer, delta: Buffer, base: Buffer): void {
  for (let i = 0; i < delta.length; i++) target[i] = delta[i]! ^ base[i]!;
}

