import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { copyFile, constants, truncate } from 'node:fs/promises';
import { InvalidArgumentError } from '@virtplug/core';
import { CHUNK_SIZE, toRuns } from '../util/chunks.js';
import { xorInto } from '../overlay/dedup.js';
import { decodeItems, KIND_DISK, KIND_MEMORY, REF_BASE_DISK, REF_BASE_MEM, REF_RAW, REF_SELF, REF_XOR, REF_ZEROS, type ChunkKind } from '../overlay/items.js';
import type { BlobEntry } from '../overlay/manifest.js';

export interface RebuildPaths {
  baseRam: string;
  baseRamBytes: number;
  baseDisk: string;
  baseDiskBytes: number;
  /** Output: full RAM image (starts as a copy of the base RAM). */
  ram: string;
  ramBytes: number;
  /** Output: sparse raw file holding only the changed disk chunks, at their offsets. */
  diskDelta: string;
  diskBytes: number;
}

/** pread of exactly `length` bytes; past the end of the file reads as zeros (sparse semantics). */
function pread(fd: number, into: Buffer, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) {
      into.fill(0, done);
      return;
    }
    done += n;
  }
}

/** Coalesces consecutive chunk writes into one pwrite. */
class WriteBehind {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private start = -1;
  private len = 0;
  constructor(private readonly fd: number) {}

  write(offset: number, data: Buffer): void {
    if (this.start >= 0 && (offset !== this.start + this.len || this.len + data.length > this.buf.length)) this.flush();
    if (this.start < 0) this.start = offset;
    data.copy(this.buf, this.len);
    this.len += data.length;
  }

  /** A later read of `offset` must see pending bytes: flush if they overlap. */
  before(offset: number, length: number): void {
    if (this.start >= 0 && offset < this.start + this.len && offset + length > this.start) this.flush();
  }

  flush(): void {
    for (let done = 0; done < this.len; ) done += writeSync(this.fd, this.buf, done, this.len - done, this.start + done);
    this.start = -1;
    this.len = 0;
  }
}

/**
 * Applies decompressed blobs, in order, to a copy of the base RAM and a sparse disk-delta file.
 * Every item is bounds-checked, and each blob's items must be exactly the chunks its manifest lists.
 * Item I/O is synchronous on purpose: thousands of 4 KiB reads and writes on page-cached files cost
 * microseconds each that way, against a thread-pool round trip each when async.
 */
export class Rebuilder {
  private readonly written = new Set<number>();
  private readonly zeroChunks = new Set<number>();
  private ram = -1;
  private disk = -1;
  private baseRam = -1;
  private baseDisk = -1;
  private ramW: WriteBehind | null = null;
  private diskW: WriteBehind | null = null;
  private ramReady: Promise<void> = Promise.resolve();
  private readonly tmp = Buffer.allocUnsafe(CHUNK_SIZE);
  private readonly tmp2 = Buffer.allocUnsafe(CHUNK_SIZE);

  constructor(
    private readonly p: RebuildPaths,
    private readonly copy: (src: string, dest: string) => Promise<void> = (s, d) => copyFile(s, d, constants.COPYFILE_FICLONE),
  ) {}

  /**
   * Opens the outputs. The base RAM copy runs in the background: disk items come first in an
   * overlay, so they apply while it is still copying; the first memory item waits for it.
   */
  async open(): Promise<void> {
    this.ramReady = (async () => {
      await this.copy(this.p.baseRam, this.p.ram);
      await truncate(this.p.ram, this.p.ramBytes);
      this.ram = openSync(this.p.ram, 'r+');
      this.ramW = new WriteBehind(this.ram);
    })();
    this.ramReady.catch(() => undefined);
    this.disk = openSync(this.p.diskDelta, 'w+');
    await truncate(this.p.diskDelta, this.p.diskBytes);
    this.baseRam = openSync(this.p.baseRam, 'r');
    this.baseDisk = openSync(this.p.baseDisk, 'r');
    this.diskW = new WriteBehind(this.disk);
  }

  /** Every disk item so far is on disk: the delta can be turned into qcow2 while memory applies. */
  async flushDisk(): Promise<void> {
    this.diskW?.flush();
  }

  async apply(index: number, entry: BlobEntry, raw: Buffer): Promise<void> {
    const mem: number[] = [];
    const disk: number[] = [];
    let count = 0;
    for (const item of decodeItems(raw)) {
      count++;
      const isMem = item.kind === KIND_MEMORY;
      const limit = isMem ? this.p.ramBytes : this.p.diskBytes;
      if (item.offset % CHUNK_SIZE || item.offset + item.length > limit || (item.length !== CHUNK_SIZE && item.offset + item.length !== limit)) {
        throw new InvalidArgumentError(`blob ${index} item offset`, item.offset, `a chunk inside the ${isMem ? 'memory' : 'disk'} image (${limit} bytes)`);
      }
      (isMem ? mem : disk).push(item.offset / CHUNK_SIZE);
      if (this.ram < 0 && (isMem || (item.ref === REF_SELF && item.pivotKind === KIND_MEMORY))) await this.ramReady;
      const data = this.tmp.subarray(0, item.length);
      switch (item.ref) {
        case REF_RAW:
          item.data.copy(data);
          break;
        case REF_XOR:
          this.readBase(item.kind, item.offset, this.tmp2.subarray(0, item.length));
          xorInto(data, item.data, this.tmp2);
          break;
        case REF_BASE_MEM:
        case REF_BASE_DISK: {
          const fromMem = item.ref === REF_BASE_MEM;
          const size = fromMem ? this.p.baseRamBytes : this.p.baseDiskBytes;
          if (item.source + item.length > size) throw new InvalidArgumentError(`blob ${index} base reference`, item.source, `an offset inside the base ${fromMem ? 'memory' : 'disk'} (${size} bytes)`);
          pread(fromMem ? this.baseRam : this.baseDisk, data, item.source);
          break;
        }
        case REF_SELF: {
          const pm = item.pivotKind === KIND_MEMORY;
          if (item.pivot + item.length > (pm ? this.p.ramBytes : this.p.diskBytes)) throw new InvalidArgumentError(`blob ${index} self reference`, item.pivot, 'an earlier chunk of this overlay');
          if (pm) {
            this.ramW!.before(item.pivot, item.length);
            pread(this.ram, data, item.pivot);
          } else this.readDisk(item.pivot, data);
          break;
        }
        case REF_ZEROS:
          data.fill(0);
          break;
      }
      if (isMem) this.ramW!.write(item.offset, data);
      else if (item.ref === REF_ZEROS) {
        this.zeroChunks.add(item.offset / CHUNK_SIZE);
        this.written.delete(item.offset / CHUNK_SIZE);
      } else {
        this.diskW!.write(item.offset, data);
        this.written.add(item.offset / CHUNK_SIZE);
        this.zeroChunks.delete(item.offset / CHUNK_SIZE);
      }
    }
    if (count !== entry.items || !sameRuns(toRuns(mem), entry.memory_runs) || !sameRuns(toRuns(disk), entry.disk_runs)) {
      throw new InvalidArgumentError(`blob ${index} contents`, `${count} items`, `the ${entry.items} items and chunk lists its manifest declares (the overlay is inconsistent)`);
    }
  }

  private readBase(kind: ChunkKind, offset: number, into: Buffer): void {
    const isMem = kind === KIND_MEMORY;
    const size = isMem ? this.p.baseRamBytes : this.p.baseDiskBytes;
    const n = Math.max(0, Math.min(into.length, size - offset));
    if (n) pread(isMem ? this.baseRam : this.baseDisk, into.subarray(0, n), offset);
    into.fill(0, n);
  }

  /**
   * The rebuilt, guest-visible disk bytes at any offset (a SELF pivot may be an unaligned window):
   * chunk by chunk from the delta (written), zeros (zeroed) or the base (unchanged).
   */
  private readDisk(offset: number, into: Buffer): void {
    this.diskW!.before(offset, into.length);
    for (let at = 0; at < into.length; ) {
      const pos = offset + at;
      const chunk = Math.floor(pos / CHUNK_SIZE);
      const n = Math.min(into.length - at, (chunk + 1) * CHUNK_SIZE - pos);
      const part = into.subarray(at, at + n);
      if (this.written.has(chunk)) pread(this.disk, part, pos);
      else if (this.zeroChunks.has(chunk)) part.fill(0);
      else this.readBase(KIND_DISK, pos, part);
      at += n;
    }
  }

  /** Zeroed disk chunks as [offset, length] ranges, for qcow2 zero clusters. */
  get zeroRanges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const c of [...this.zeroChunks].sort((a, b) => a - b)) {
      const last = out[out.length - 1];
      const len = Math.min(CHUNK_SIZE, this.p.diskBytes - c * CHUNK_SIZE);
      if (last && last[0] + last[1] === c * CHUNK_SIZE) last[1] += len;
      else out.push([c * CHUNK_SIZE, len]);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.ramReady.catch(() => undefined);
    try {
      this.ramW?.flush();
      this.diskW?.flush();
    } finally {
      for (const fd of [this.ram, this.disk, this.baseRam, this.baseDisk]) if (fd >= 0) closeSync(fd);
      this.ram = this.disk = this.baseRam = this.baseDisk = -1;
      this.ramW = this.diskW = null;
    }
  }
}

function sameRuns(a: Array<[number, number]>, b: ReadonlyArray<readonly [number, number]>): boolean {
  return a.length === b.length && a.every((r, i) => r[0] === b[i]![0] && r[1] === b[i]![1]);
}
