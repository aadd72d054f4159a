import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CHUNK_SIZE, toRuns } from '../util/chunks.js';
import { encodeItem, KIND_MEMORY, MAX_ITEM, type DeltaItem } from './items.js';
import type { BlobEntry, Compression, StateEntry } from './manifest.js';
import type { CompressionPool } from './pool.js';

export interface PackerOptions {
  pool: CompressionPool;
  compression: Compression;
  level: number;
  /** Uncompressed bytes per blob (elijah's segments; ~1 MiB keeps synthesis pipelined). */
  blobSize: number;
  /** Where compressed sections are appended, in order. */
  out: FileHandle;
}

interface Pending {
  raw: Buffer;
  items: number;
  memory: number[];
  disk: number[];
  compressed: Promise<Buffer>;
}

/**
 * Packs delta items into blobs, compresses them on the worker pool, and appends them to the payload
 * file in order. Back-pressure: at most two blobs per worker are in flight.
 */
export class BlobPacker {
  readonly blobs: BlobEntry[] = [];
  private buf: Buffer;
  private pos = 0;
  private items = 0;
  private memory: number[] = [];
  private disk: number[] = [];
  private readonly inflight: Pending[] = [];
  private written = 0;
  private readonly payloadHash: Hash = createHash('sha256');

  constructor(private readonly opts: PackerOptions) {
    this.buf = Buffer.allocUnsafe(opts.blobSize + MAX_ITEM);
  }

  get payloadBytes(): number {
    return this.written;
  }

  async add(item: DeltaItem): Promise<void> {
    this.pos = encodeItem(this.buf, this.pos, item);
    this.items++;
    (item.kind === KIND_MEMORY ? this.memory : this.disk).push(item.offset / CHUNK_SIZE);
    if (this.pos >= this.opts.blobSize) await this.flush();
  }

  /** Seals the current blob (if any) and hands it to the pool. */
  async flush(): Promise<void> {
    if (this.items === 0) return;
    const raw = Buffer.from(this.buf.subarray(0, this.pos));
    const { pool, compression, level } = this.opts;
    this.inflight.push({ raw, items: this.items, memory: this.memory, disk: this.disk, compressed: pool.compress(compression, level, raw) });
    this.pos = 0;
    this.items = 0;
    this.memory = [];
    this.disk = [];
    while (this.inflight.length > pool.size * 2) await this.writeOldest();
  }

  /** Flushes, waits for every blob, then appends the device-state section; returns its entry. */
  async finish(state: Buffer): Promise<{ state: StateEntry; payloadBytes: number; overlaySha256: string }> {
    await this.flush();
    while (this.inflight.length) await this.writeOldest();
    const { data, compression } = await this.compressOrStore(state, this.opts.pool.compress(this.opts.compression, this.opts.level, state));
    const entry: StateEntry = { offset: this.written, size: data.length, raw_size: state.length, sha256: hex(data), compression };
    await this.append(data);
    return { state: entry, payloadBytes: this.written, overlaySha256: this.payloadHash.digest('hex') };
  }

  private async writeOldest(): Promise<void> {
    const p = this.inflight.shift()!;
    const { data, compression } = await this.compressOrStore(p.raw, p.compressed);
    this.blobs.push({
      offset: this.written,
      size: data.length,
      raw_size: p.raw.length,
      sha256: hex(data),
      compression,
      items: p.items,
      memory_runs: toRuns(p.memory),
      disk_runs: toRuns(p.disk),
    });
    await this.append(data);
  }

  /** Incompressible sections (random pages) are stored as-is rather than grown. */
  private async compressOrStore(raw: Buffer, compressed: Promise<Buffer>): Promise<{ data: Buffer; compression: Compression }> {
    const c = await compressed;
    return c.length < raw.length ? { data: c, compression: this.opts.compression } : { data: raw, compression: 'none' };
  }

  private async append(data: Buffer): Promise<void> {
    await this.opts.out.write(data, 0, data.length, null);
    this.payloadHash.update(data);
    this.written += data.length;
  }
}

function hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
