import { InvalidArgumentError, type MachineSignature } from '@virtplug/core';
import { HEX64 } from '../util/hash.js';

export const BASE_FORMAT = 'virtplug-cloudlet-base';
export const BASE_VERSION = 1;

/** Files of a stored base (`<base_dir>/bases/<id>/`) and of a directory package. */
export const BASE_FILES = {
  manifest: 'base.json',
  disk: 'disk.raw',
  memory: 'memory.ram',
  state: 'state.bin',
  descriptor: 'descriptor.xml',
  memoryHashes: 'memory.hashes',
  diskHashes: 'disk.hashes',
} as const;

export interface BaseManifest {
  format: typeof BASE_FORMAT;
  version: number;
  /** SHA-256 of the guest-visible disk bytes, 0..disk.bytes (docs/cloudlet-format.md §5). */
  id: string;
  name: string;
  created_at: string;
  chunk_size: 4096;
  hash_algo: 'sha256';
  disk: { bytes: number; sha256: string };
  memory: { bytes: number; sha256: string };
  state: { bytes: number; sha256: string };
  descriptor_sha256: string;
  hashes: { memory_sha256: string; disk_sha256: string };
  machine: MachineSignature;
}

function fail(field: string, value: unknown, expected: string): never {
  throw new InvalidArgumentError(`base manifest field ${field}`, value, expected);
}

export function validateBaseManifest(x: Record<string, unknown>): BaseManifest {
  if (x.format !== BASE_FORMAT) fail('format', x.format, JSON.stringify(BASE_FORMAT));
  if (x.version !== BASE_VERSION) fail('version', x.version, String(BASE_VERSION));
  if (typeof x.id !== 'string' || !HEX64.test(x.id)) fail('id', x.id, '64 lowercase hex digits');
  if (typeof x.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(x.name)) fail('name', x.name, 'letters, digits, ".", "_" or "-" (1-64)');
  if (x.chunk_size !== 4096) fail('chunk_size', x.chunk_size, '4096');
  for (const k of ['disk', 'memory', 'state'] as const) {
    const s = x[k] as { bytes?: unknown; sha256?: unknown } | undefined;
    if (!s || typeof s.bytes !== 'number' || !Number.isSafeInteger(s.bytes) || s.bytes < 0) fail(`${k}.bytes`, s?.bytes, 'a byte count');
    if (typeof s.sha256 !== 'string' || !HEX64.test(s.sha256)) fail(`${k}.sha256`, s.sha256, '64 hex digits');
  }
  if ((x.disk as { sha256: string }).sha256 !== x.id) fail('disk.sha256', (x.disk as { sha256: string }).sha256, `the base id ${x.id as string}`);
  const m = x.machine as Record<string, unknown> | undefined;
  for (const k of ['machineType', 'qemuVersion', 'cpuModel', 'virtType']) if (!m || typeof m[k] !== 'string') fail(`machine.${k}`, m?.[k], 'a string');
  return x as unknown as BaseManifest;
}

/** A short sentence listing how two machine signatures differ, or '' when they match. */
export function signatureMismatch(image: MachineSignature, host: MachineSignature): string {
  const keys: Array<keyof MachineSignature> = ['machineType', 'qemuVersion', 'cpuModel', 'virtType'];
  return keys
    .filter((k) => image[k] !== host[k])
    .map((k) => `${k} ${JSON.stringify(image[k])} (image) vs ${JSON.stringify(host[k])} (this host)`)
    .join(', ');
}
