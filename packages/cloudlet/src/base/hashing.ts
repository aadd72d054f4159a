import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { CHUNK_SIZE, chunkCount, isZero } from '../util/chunks.js';
import { preadFull } from '../util/files.js';

const BLOCK = 4 << 20;
const ZERO_DIGEST = createHash('sha256').update(Buffer.alloc(CHUNK_SIZE)).digest();

export interface ImageHashes {
  /** SHA-256 (hex) of all `bytes` bytes; for a disk this is the base id. */
  sha256: string;
  /** SHA-256 of each 4 KiB chunk, 32 bytes each, in chunk order (docs/cloudlet-format.md §5). */
  list: Buffer;
}

/**
 * One pass over a flat image: the whole-image digest and the per-chunk list. Bytes past the end of
 * the file (a sparse tail) count as zeros, so the digest is of the guest-visible content.
 */
export async function hashImage(path: string, bytes: number, onBytes?: (n: number) => void): Promise<ImageHashes> {
  const whole = createHash('sha256');
  const list = Buffer.allocUnsafe(chunkCount(bytes) * 32);
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(BLOCK);
  try {
    let chunk = 0;
    for (let pos = 0; pos < bytes; pos += BLOCK) {
      const len = Math.min(BLOCK, bytes - pos);
      await preadFull(fh, buf, 0, len, pos);
      const block = buf.subarray(0, len);
      whole.update(block);
      for (let off = 0; off < len; off += CHUNK_SIZE, chunk++) {
        const c = block.subarray(off, Math.min(len, off + CHUNK_SIZE));
        const digest = c.length === CHUNK_SIZE && isZero(c) ? ZERO_DIGEST : createHash('sha256').update(c).digest();
        digest.copy(list, chunk * 32);
      }
      onBytes?.(len);
    }
  } finally {
    await fh.close();
  }
  return { sha256: whole.digest('hex'), list };
}
