import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { MemoryImage } from '@virtplug/core';
import type { BaseRecord } from '../base/store.js';
import { diskChanges } from '../disk/extents.js';
import type { QemuImg } from '../disk/qemu-img.js';
import type { WorkDir } from '../util/workdir.js';
import { CHUNK_SIZE } from '../util/chunks.js';
import { encodeHeader } from './container.js';
import { Deduplicator, type HashIndex } from './dedup.js';
import { machineToManifest, OVERLAY_FORMAT, OVERLAY_VERSION, type Compression, type OverlayManifest } from './manifest.js';
import { BlobPacker } from './packer.js';
import type { CompressionPool } from './pool.js';
import { scanDisk } from './scan-disk.js';
import { scanMemory } from './scan-memory.js';

export interface Progress {
  phase: 'memory' | 'disk' | 'write';
  /** Bytes scanned so far, out of `total`. */
  done: number;
  total: number;
}

export interface CreateOverlayOptions {
  pool: CompressionPool;
  qemu: QemuImg;
  /** Scratch space (payload before the header is known; raw fallback copies). */
  work: WorkDir;
  compression: Compression;
  level: number;
  blobSize: number;
  xor: boolean;
  /** Disk window stride for memory↔disk dedup (see DedupOptions.windowStride). */
  windowStride?: number;
  /**
   * Diff against an earlier capture instead of the base (a handoff's final residue after a
   * pre-copy round): only chunks that differ from it are written; references to the base stay valid.
   */
  reference?: OverlayReference;
  kind?: OverlayManifest['kind'];
  indexes: { memory: HashIndex; disk: HashIndex };
  onProgress?: (p: Progress) => void;
}

export interface OverlayReference {
  ramPath: string;
  ramBytes: number;
  /** The earlier capture's disk, as raw guest-visible bytes. */
  diskRaw: string;
  diskBytes: number;
  /** overlay_sha256 of the overlay that carried that earlier capture. */
  parentSha256: string;
}

export interface CreatedOverlay {
  path: string;
  bytes: number;
  manifest: OverlayManifest;
  /** Time spent diffing, compressing and writing (not capturing). */
  ms: number;
}

/**
 * Diffs a captured image against its base and writes one overlay file (docs/cloudlet-format.md):
 * the disk clusters the layers above the base wrote, then memory page by page, then device state.
 */
export async function createOverlay(base: BaseRecord, image: MemoryImage, dest: string, opts: CreateOverlayOptions): Promise<CreatedOverlay> {
  const t0 = performance.now();
  const changes = await diskChanges(opts.qemu, image.diskPath, image.diskFormat, base.diskPath);
  const diskTotal = changes.runs.reduce((n, [, l]) => n + l, 0);
  const total = image.ramBytes + diskTotal;
  let done = 0;
  const tick = (phase: Progress['phase']) => (n: number) => {
    done += n;
    opts.onProgress?.({ phase, done, total });
  };
  const ref = opts.reference;
  // XOR is defined against the base chunk, which a follow-up residue does not compare with: off.
  // A follow-up residue skips the disk windows too: pages changed since the earlier capture rarely
  // match disk content, and hashing every window of every changed run would lengthen the downtime.
  const dedup = new Deduplicator({ baseMemory: opts.indexes.memory, baseDisk: opts.indexes.disk, xor: opts.xor && !ref, windowStride: ref ? CHUNK_SIZE : (opts.windowStride ?? 1024) });
  const payloadPath = opts.work.file('payload.tmp');
  const out = await open(payloadPath, 'w');
  let fallback: Promise<string> | null = null;
  const fallbackRaw = () =>
    (fallback ??= (async () => {
      const p = opts.work.file('disk-fallback.raw');
      await opts.qemu.convert(image.diskPath, image.diskFormat, p, 'raw');
      return p;
    })());
  let finished: Awaited<ReturnType<BlobPacker['finish']>>;
  let packer: BlobPacker;
  try {
    packer = new BlobPacker({ pool: opts.pool, compression: opts.compression, level: opts.level, blobSize: opts.blobSize, out });
    // Disk first: memory pages (a file's page cache) may then refer to unaligned windows of the new
    // disk content, which the synthesis has rebuilt by the time it reaches them.
    const against = ref
      ? { disk: ref.diskRaw, diskBytes: ref.diskBytes, ram: ref.ramPath, ramBytes: ref.ramBytes }
      : { disk: base.diskPath, diskBytes: base.manifest.disk.bytes, ram: base.ramPath, ramBytes: base.manifest.memory.bytes };
    const diskScanned = await scanDisk({ changes, baseDisk: against.disk, baseDiskBytes: against.diskBytes, fallbackRaw, onBytes: tick('disk') }, dedup, packer);
    await scanMemory(image.ramPath, image.ramBytes, against.ram, against.ramBytes, dedup, packer, tick('memory'));
    dedup.stats.scanned_bytes = image.ramBytes + diskScanned;
    finished = await packer.finish(await readFile(image.statePath));
  } finally {
    await out.close();
    if (fallback) await rm(opts.work.file('disk-fallback.raw'), { force: true });
  }
  const manifest: OverlayManifest = {
    format: OVERLAY_FORMAT,
    version: OVERLAY_VERSION,
    kind: opts.kind ?? 'overlay',
    ...(ref ? { parent_sha256: ref.parentSha256 } : {}),
    created_at: new Date().toISOString(),
    chunk_size: 4096,
    hash_algo: 'sha256',
    base_id: base.id,
    memory_bytes: image.ramBytes,
    disk_bytes: changes.virtualSize || base.manifest.disk.bytes,
    machine: machineToManifest(image.machine),
    descriptor: image.descriptor,
    compression: opts.compression,
    blobs: packer.blobs,
    state: finished.state,
    payload_bytes: finished.payloadBytes,
    overlay_sha256: finished.overlaySha256,
    stats: dedup.stats,
  };
  opts.onProgress?.({ phase: 'write', done: total, total });
  const header = encodeHeader(manifest);
  const partial = `${dest}.partial`;
  try {
    await writeFile(partial, header);
    await pipeline(createReadStream(payloadPath), createWriteStream(partial, { flags: 'a' }));
    await rename(partial, dest);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  } finally {
    await rm(payloadPath, { force: true });
  }
  return { path: dest, bytes: header.length + finished.payloadBytes, manifest, ms: performance.now() - t0 };
}
