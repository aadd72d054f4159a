import type { MachineSignature } from '@virtplug/core';
import { InvalidArgumentError } from '@virtplug/core';
import { HEX64 } from '../util/hash.js';

export const OVERLAY_FORMAT = 'virtplug-cloudlet-overlay';
export const OVERLAY_VERSION = 1;

export type Compression = 'zstd' | 'xz' | 'none';
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'xz', 'none'];

export interface BlobEntry {
  /** Offset of the compressed bytes from the start of the payload. */
  offset: number;
  size: number;
  raw_size: number;
  sha256: string;
  compression: Compression;
  items: number;
  /** Chunk indexes (offset / chunk_size) this blob rebuilds, as [start, count] runs. */
  memory_runs: Array<[number, number]>;
  disk_runs: Array<[number, number]>;
}

export interface StateEntry {
  offset: number;
  size: number;
  raw_size: number;
  sha256: string;
  compression: Compression;
}

export interface OverlayStats {
  memory_chunks: number;
  disk_chunks: number;
  unchanged_memory: number;
  unchanged_disk: number;
  zero: number;
  base_mem: number;
  base_disk: number;
  self: number;
  xor: number;
  raw: number;
  scanned_bytes: number;
}

export interface OverlayManifest {
  format: typeof OVERLAY_FORMAT;
  version: number;
  /** `overlay` from create-overlay, `residue` from a handoff. */
  kind: 'overlay' | 'residue';
  /**
   * A follow-up residue (handoff after a pre-copy round) applies on top of the overlay whose
   * `overlay_sha256` this is, not on the bare base.
   */
  parent_sha256?: string;
  created_at: string;
  chunk_size: number;
  hash_algo: 'sha256';
  base_id: string;
  memory_bytes: number;
  disk_bytes: number;
  machine: { machine_type: string; qemu_version: string; cpu_model: string; virt_type: string };
  descriptor: string;
  compression: Compression;
  blobs: BlobEntry[];
  state: StateEntry;
  payload_bytes: number;
  overlay_sha256: string;
  stats: OverlayStats;
}

export function machineToManifest(m: MachineSignature): OverlayManifest['machine'] {
  return { machine_type: m.machineType, qemu_version: m.qemuVersion, cpu_model: m.cpuModel, virt_type: m.virtType };
}

export function machineFromManifest(m: OverlayManifest['machine']): MachineSignature {
  return { machineType: m.machine_type, qemuVersion: m.qemu_version, cpuModel: m.cpu_model, virtType: m.virt_type };
}

function fail(field: string, value: unknown, expected: string): never {
  throw new InvalidArgumentError(`overlay manifest field ${field}`, value, expected);
}

const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRuns = (v: unknown): boolean =>
  Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 2 && isNat(r[0]) && isNat(r[1]) && r[1] > 0);

/**
 * Checks structure and internal consistency (blobs contiguous and inside the payload), so the reader
 * can trust offsets before it fetches a byte of payload.
 */
export function validateManifest(m: unknown): OverlayManifest {
  const x = m as Record<string, unknown>;
  if (!x || typeof x !== 'object') fail('(root)', m, 'a msgpack map');
  if (x.format !== OVERLAY_FORMAT) fail('format', x.format, JSON.stringify(OVERLAY_FORMAT));
  if (x.version !== OVERLAY_VERSION) fail('version', x.version, `${OVERLAY_VERSION} (this reader's version)`);
  if (x.kind !== 'overlay' && x.kind !== 'residue') fail('kind', x.kind, 'overlay or residue');
  if (x.chunk_size !== 4096) fail('chunk_size', x.chunk_size, '4096');
  if (x.hash_algo !== 'sha256') fail('hash_algo', x.hash_algo, 'sha256');
  if (typeof x.base_id !== 'string' || !HEX64.test(x.base_id)) fail('base_id', x.base_id, '64 lowercase hex digits');
  if (x.parent_sha256 !== undefined && (typeof x.parent_sha256 !== 'string' || !HEX64.test(x.parent_sha256))) fail('parent_sha256', x.parent_sha256, '64 hex digits or absent');
  if (!isNat(x.memory_bytes) || x.memory_bytes % 4096) fail('memory_bytes', x.memory_bytes, 'a multiple of 4096');
  if (!isNat(x.disk_bytes) || x.disk_bytes % 512) fail('disk_bytes', x.disk_bytes, 'a multiple of 512');
  const mach = x.machine as Record<string, unknown>;
  for (const k of ['machine_type', 'qemu_version', 'cpu_model', 'virt_type']) {
    if (!mach || typeof mach[k] !== 'string') fail(`machine.${k}`, mach?.[k], 'a string');
  }
  if (typeof x.descriptor !== 'string') fail('descriptor', typeof x.descriptor, 'a string');
  if (!isNat(x.payload_bytes)) fail('payload_bytes', x.payload_bytes, 'a byte count');
  if (typeof x.overlay_sha256 !== 'string' || !HEX64.test(x.overlay_sha256)) fail('overlay_sha256', x.overlay_sha256, '64 hex digits');
  if (!Array.isArray(x.blobs)) fail('blobs', x.blobs, 'an array');
  let expectOffset = 0;
  (x.blobs as unknown[]).forEach((b, i) => {
    const e = b as Record<string, unknown>;
    checkSection(`blobs[${i}]`, e, expectOffset);
    if (!isNat(e.items) || e.items === 0) fail(`blobs[${i}].items`, e.items, 'a positive count');
    if (!isRuns(e.memory_runs) || !isRuns(e.disk_runs)) fail(`blobs[${i}] runs`, '(malformed)', '[[start, count], ...]');
    expectOffset += e.size as number;
  });
  checkSection('state', x.state as Record<string, unknown>, expectOffset);
  expectOffset += (x.state as StateEntry).size;
  if (expectOffset !== x.payload_bytes) fail('payload_bytes', x.payload_bytes, `${expectOffset} (the sum of blob and state sizes)`);
  return x as unknown as OverlayManifest;
}

function checkSection(name: string, e: Record<string, unknown> | undefined, expectOffset: number): void {
  if (!e || typeof e !== 'object') fail(name, e, 'a map');
  if (e.offset !== expectOffset) fail(`${name}.offset`, e.offset, `${expectOffset} (sections are contiguous)`);
  if (!isNat(e.size)) fail(`${name}.size`, e.size, 'a byte count');
  if (!isNat(e.raw_size) || (e.raw_size as number) > 256 << 20) fail(`${name}.raw_size`, e.raw_size, 'a byte count <= 256 MiB');
  if (typeof e.sha256 !== 'string' || !HEX64.test(e.sha256)) fail(`${name}.sha256`, e.sha256, '64 hex digits');
  if (!COMPRESSIONS.includes(e.compression as Compression)) fail(`${name}.compression`, e.compression, COMPRESSIONS.join(', '));
}

/** Chunk totals of a manifest, for info-overlay. */
export function chunkTotals(m: OverlayManifest): { memory: number; disk: number } {
  let memory = 0;
  let disk = 0;
  for (const b of m.blobs) {
    for (const [, c] of b.memory_runs) memory += c;
    for (const [, c] of b.disk_runs) disk += c;
  }
  return { memory, disk };
}
