import { createReadStream, createWriteStream } from 'node:fs';
import { constants, copyFile, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { InvalidArgumentError } from '@virtplug/core';
import type { QemuImg } from '../disk/qemu-img.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import type { WorkDir } from '../util/workdir.js';
import { hashImage } from './hashing.js';
import { BASE_FILES, validateBaseManifest, type BaseManifest } from './manifest.js';
import type { BaseRecord } from './store.js';
import { extractMember, listTar, writeTar } from './tar.js';

/**
 * Base packages (docs/cloudlet-format.md §6): a ustar archive (or a directory) with base.json, the
 * disk as compressed qcow2 (disk.qcow2) or raw (disk.raw), the RAM as zstd (memory.ram.zst) or raw
 * (memory.ram), state.bin, descriptor.xml and the two hash lists.
 */
export const PACKAGE_DISK = 'disk.qcow2';
export const PACKAGE_MEMORY = 'memory.ram.zst';
const ALLOWED = new Set<string>([...Object.values(BASE_FILES), PACKAGE_DISK, PACKAGE_MEMORY]);

export async function exportPackage(base: BaseRecord, dest: string, work: WorkDir, qemu: QemuImg): Promise<{ path: string; bytes: number }> {
  const disk = work.file(PACKAGE_DISK);
  const mem = work.file(PACKAGE_MEMORY);
  await qemu.convert(base.diskPath, 'raw', disk, 'qcow2', ['-c', '-o', 'compression_type=zstd']);
  await pipeline(createReadStream(base.ramPath, { highWaterMark: 1 << 20 }), new CompressStream({ compressionLevel: 3 }), createWriteStream(mem));
  const d = base.dir;
  const partial = `${dest}.partial`;
  try {
    await writeTar(partial, [
      { name: BASE_FILES.manifest, path: join(d, BASE_FILES.manifest) },
      { name: BASE_FILES.descriptor, path: base.descriptorPath },
      { name: BASE_FILES.state, path: base.statePath },
      { name: BASE_FILES.memoryHashes, path: base.memoryHashesPath },
      { name: BASE_FILES.diskHashes, path: base.diskHashesPath },
      { name: PACKAGE_MEMORY, path: mem },
      { name: PACKAGE_DISK, path: disk },
    ]);
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
    await rm(disk, { force: true });
    await rm(mem, { force: true });
  }
  return { path: dest, bytes: (await stat(dest)).size };
}

/** Copies package members into `staging` (from a tar or a directory), keeping only known names. */
async function unpack(pkg: string, staging: string): Promise<Set<string>> {
  const st = await stat(pkg).catch(() => null);
  if (!st) throw new InvalidArgumentError('base package', pkg, 'an existing base package file (.tar) or directory');
  const names = new Set<string>();
  if (st.isDirectory()) {
    for (const n of await readdir(pkg)) {
      if (!ALLOWED.has(n)) continue;
      await copyFile(join(pkg, n), join(staging, n), constants.COPYFILE_FICLONE);
      names.add(n);
    }
  } else {
    for (const e of await listTar(pkg)) {
      if (!ALLOWED.has(e.name)) throw new InvalidArgumentError('base package member', e.name, `one of ${[...ALLOWED].join(', ')}`);
      await extractMember(pkg, e, join(staging, e.name));
      names.add(e.name);
    }
  }
  return names;
}

function need(names: Set<string>, ...alternatives: string[]): string {
  const n = alternatives.find((a) => names.has(a));
  if (!n) throw new InvalidArgumentError('base package', `missing ${alternatives.join(' or ')}`, `a package with ${[...ALLOWED].join(', ')}`);
  return n;
}

/**
 * Unpacks into `staging`, normalizes to the store layout (raw disk, raw RAM) and verifies every
 * recorded digest by recomputing it: the disk digest must equal the id, hash lists must match.
 */
export async function unpackAndVerify(pkg: string, staging: string, qemu: QemuImg): Promise<BaseManifest> {
  const names = await unpack(pkg, staging);
  need(names, BASE_FILES.manifest);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(staging, BASE_FILES.manifest), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError('base package base.json', (e as Error).message, 'valid JSON', { cause: e });
  }
  const m = validateBaseManifest(raw);
  const diskName = need(names, BASE_FILES.disk, PACKAGE_DISK);
  if (diskName === PACKAGE_DISK) {
    await qemu.convert(join(staging, PACKAGE_DISK), 'qcow2', join(staging, BASE_FILES.disk), 'raw');
    await rm(join(staging, PACKAGE_DISK));
  }
  const memName = need(names, BASE_FILES.memory, PACKAGE_MEMORY);
  if (memName === PACKAGE_MEMORY) {
    await pipeline(createReadStream(join(staging, PACKAGE_MEMORY)), new DecompressStream(), createWriteStream(join(staging, BASE_FILES.memory)));
    await rm(join(staging, PACKAGE_MEMORY));
  }
  for (const n of [BASE_FILES.state, BASE_FILES.descriptor, BASE_FILES.diskHashes, BASE_FILES.memoryHashes]) need(names, n);
  const mismatch = (what: string, got: string, want: string) =>
    new InvalidArgumentError(`base package ${what}`, got, `${want} as recorded in base.json (the package is corrupt or was modified)`);
  const diskBytes = (await stat(join(staging, BASE_FILES.disk))).size;
  if (diskBytes !== m.disk.bytes) throw mismatch('disk size', String(diskBytes), String(m.disk.bytes));
  const disk = await hashImage(join(staging, BASE_FILES.disk), diskBytes);
  if (disk.sha256 !== m.id) throw mismatch('disk SHA-256 (the base id)', disk.sha256, m.id);
  const ramBytes = (await stat(join(staging, BASE_FILES.memory))).size;
  if (ramBytes !== m.memory.bytes) throw mismatch('memory size', String(ramBytes), String(m.memory.bytes));
  const mem = await hashImage(join(staging, BASE_FILES.memory), ramBytes);
  if (mem.sha256 !== m.memory.sha256) throw mismatch('memory SHA-256', mem.sha256, m.memory.sha256);
  const diskList = await readFile(join(staging, BASE_FILES.diskHashes));
  const memList = await readFile(join(staging, BASE_FILES.memoryHashes));
  if (!diskList.equals(disk.list)) throw mismatch('disk hash list', sha256Hex(diskList), sha256Hex(disk.list));
  if (!memList.equals(mem.list)) throw mismatch('memory hash list', sha256Hex(memList), sha256Hex(mem.list));
  const stateSha = await sha256File(join(staging, BASE_FILES.state));
  if (stateSha !== m.state.sha256) throw mismatch('state SHA-256', stateSha, m.state.sha256);
  const descSha = sha256Hex(await readFile(join(staging, BASE_FILES.descriptor)));
  if (descSha !== m.descriptor_sha256) throw mismatch('descriptor SHA-256', descSha, m.descriptor_sha256);
  return m;
}
