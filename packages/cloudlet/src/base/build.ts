import { copyFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type MemoryImage } from '@virtplug/core';
import type { QemuImg } from '../disk/qemu-img.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import { hashImage } from './hashing.js';
import { BASE_FILES, BASE_FORMAT, BASE_VERSION, type BaseManifest } from './manifest.js';

export const BASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkBaseName(name: string): void {
  if (typeof name !== 'string' || !BASE_NAME.test(name)) {
    throw new InvalidArgumentError('base name', name, '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

/**
 * Writes a complete base into `staging` from a captured memory image: the disk flattened to a
 * sparse raw file (the guest-visible bytes, whose SHA-256 is the id), RAM, device state, descriptor,
 * both hash lists and base.json. `staging` is then installed by the store with one rename.
 */
export async function buildBase(image: MemoryImage, name: string, staging: string, qemu: QemuImg, onBytes?: (n: number) => void): Promise<BaseManifest> {
  checkBaseName(name);
  const diskPath = join(staging, BASE_FILES.disk);
  await qemu.convert(image.diskPath, image.diskFormat, diskPath, 'raw');
  const diskBytes = (await stat(diskPath)).size;
  const ramPath = join(staging, BASE_FILES.memory);
  if (image.ramPath !== ramPath) await qemu.copySparse(image.ramPath, ramPath);
  const ramBytes = (await stat(ramPath)).size;
  if (ramBytes !== image.ramBytes || ramBytes % 4096) {
    throw new InvalidArgumentError('captured RAM image size', ramBytes, `${image.ramBytes} bytes, a multiple of 4096`);
  }
  const statePath = join(staging, BASE_FILES.state);
  if (image.statePath !== statePath) await copyFile(image.statePath, statePath);
  await writeFile(join(staging, BASE_FILES.descriptor), image.descriptor);
  const [disk, memory] = [await hashImage(diskPath, diskBytes, onBytes), await hashImage(ramPath, ramBytes, onBytes)];
  await writeFile(join(staging, BASE_FILES.diskHashes), disk.list);
  await writeFile(join(staging, BASE_FILES.memoryHashes), memory.list);
  const manifest: BaseManifest = {
    format: BASE_FORMAT,
    version: BASE_VERSION,
    id: disk.sha256,
    name,
    created_at: new Date().toISOString(),
    chunk_size: 4096,
    hash_algo: 'sha256',
    disk: { bytes: diskBytes, sha256: disk.sha256 },
    memory: { bytes: ramBytes, sha256: memory.sha256 },
    state: { bytes: (await stat(statePath)).size, sha256: await sha256File(statePath) },
    descriptor_sha256: sha256Hex(Buffer.from(image.descriptor)),
    hashes: { memory_sha256: sha256Hex(memory.list), disk_sha256: sha256Hex(disk.list) },
    machine: { ...image.machine },
  };
  await writeFile(join(staging, BASE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
