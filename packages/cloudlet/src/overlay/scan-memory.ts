import { open } from 'node:fs/promises';
import { InvalidArgumentError } from '@virtplug/core';
import { CHUNK_SIZE, isZero } from '../util/chunks.js';
import { preadFull } from '../util/files.js';
import type { Deduplicator } from './dedup.js';
import { KIND_MEMORY } from './items.js';
import type { BlobPacker } from './packer.js';

const BLOCK = 4 << 20;

/**
 * Page-by-page comparison of the captured RAM with the base RAM. Both are flat files, so unchanged
 * pages cost a memcmp; only changed pages are hashed and classified.
 */
export async function scanMemory(
  ramPath: string,
  ramBytes: number,
  baseRamPath: string,
  baseRamBytes: number,
  dedup: Deduplicator,
  packer: BlobPacker,
  onBytes?: (n: number) => void,
): Promise<number> {
  if (ramBytes % CHUNK_SIZE) throw new InvalidArgumentError('RAM image size', ramBytes, 'a multiple of 4096 bytes');
  const ram = await open(ramPath, 'r');
  const base = await open(baseRamPath, 'r');
  const buf = Buffer.allocUnsafe(BLOCK);
  const baseBuf = Buffer.allocUnsafe(BLOCK);
  try {
    for (let pos = 0; pos < ramBytes; pos += BLOCK) {
      const len = Math.min(BLOCK, ramBytes - pos);
      const baseLen = Math.max(0, Math.min(len, baseRamBytes - pos));
      await Promise.all([preadFull(ram, buf, 0, len, pos), baseLen ? preadFull(base, baseBuf, 0, baseLen, pos) : null]);
      baseBuf.fill(0, baseLen, len);
      // Whole block unchanged is the common case for an idle guest: one compare instead of 1024.
      if (buf.subarray(0, len).equals(baseBuf.subarray(0, len))) {
        dedup.stats.unchanged_memory += len / CHUNK_SIZE;
      } else {
        for (let off = 0; off < len; off += CHUNK_SIZE) {
          const page = buf.subarray(off, off + CHUNK_SIZE);
          const b = baseBuf.subarray(off, off + CHUNK_SIZE);
          if (page.equals(b)) {
            dedup.stats.unchanged_memory++;
            continue;
          }
          await packer.add(dedup.classify(KIND_MEMORY, pos + off, page, isZero(b) ? null : b));
        }
      }
      onBytes?.(len);
    }
  } finally {
    await Promise.all([ram.close(), base.close()]);
  }
  return ramBytes;
}
