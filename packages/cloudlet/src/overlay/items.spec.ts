import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decodeItems, encodeItem, encodedSize, KIND_DISK, KIND_MEMORY, MAX_ITEM, REF_BASE_MEM, REF_RAW, REF_SELF, REF_XOR, REF_ZEROS, type DeltaItem } from './items.js';
import { CompressionPool } from './pool.js';
import { fromRuns, toRuns } from '../util/chunks.js';

const items: DeltaItem[] = [
  { kind: KIND_MEMORY, ref: REF_RAW, offset: 0, length: 4096, data: randomBytes(4096) },
  { kind: KIND_MEMORY, ref: REF_ZEROS, offset: 4096, length: 4096 },
  { kind: KIND_DISK, ref: REF_BASE_MEM, offset: 1 << 30, length: 4096, source: 8192 },
  { kind: KIND_DISK, ref: REF_SELF, offset: (1 << 30) + 4096, length: 4096, pivotKind: KIND_MEMORY, pivot: 0 },
  { kind: KIND_DISK, ref: REF_XOR, offset: 2 ** 40, length: 512, data: randomBytes(512) },
];

function encodeAll(list: DeltaItem[]): Buffer {
  const buf = Buffer.alloc(list.length * MAX_ITEM);
  let pos = 0;
  for (const it of list) pos = encodeItem(buf, pos, it);
  return buf.subarray(0, pos);
}

describe('delta items', () => {
  it('round-trips every reference type, including offsets above 4 GiB', () => {
    const buf = encodeAll(items);
    expect(buf.length).toBe(items.reduce((n, it) => n + encodedSize(it), 0));
    expect([...decodeItems(buf)]).toEqual(items);
  });

  it('refuses truncated records, unknown types and zero lengths', () => {
    const buf = encodeAll(items);
    expect(() => [...decodeItems(buf.subarray(0, buf.length - 1))]).toThrow(/truncated data/);
    const bad = Buffer.from(buf);
    bad[0] = 0x13;
    expect(() => [...decodeItems(bad)]).toThrow(/kind/);
    const bad2 = Buffer.from(buf);
    bad2[0] = 0xa1;
    expect(() => [...decodeItems(bad2)]).toThrow(/reference type/);
    const bad3 = Buffer.from(buf);
    bad3.writeUInt32BE(0, 9);
    expect(() => [...decodeItems(bad3)]).toThrow(/length/);
  });

  it('run-length chunk lists round-trip', () => {
    const idx = [1, 2, 3, 7, 9, 10];
    expect(toRuns(idx)).toEqual([[1, 3], [7, 1], [9, 2]]);
    expect(fromRuns(toRuns(idx))).toEqual(idx);
  });
});

describe('compression pool', () => {
  it('round-trips zstd and xz, stores incompressible data as-is, and enforces the declared size', async () => {
    const pool = new CompressionPool(2);
    try {
      const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(5000));
      for (const algo of ['zstd', 'xz'] as const) {
        const c = await pool.compress(algo, algo === 'zstd' ? 9 : 6, text);
        expect(c.length).toBeLessThan(text.length / 10);
        expect((await pool.decompress(algo, c, text.length)).equals(text)).toBe(true);
        await expect(pool.decompress(algo, c, text.length - 1)).rejects.toThrow(/oversize/);
        await expect(pool.decompress(algo, c, text.length + 1)).rejects.toThrow(/declares/);
        const corrupt = Buffer.from(c);
        corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
        await expect(pool.decompress(algo, corrupt, text.length)).rejects.toThrow();
      }
      const random = randomBytes(1 << 20);
      expect((await pool.compress('xz', 6, random)).equals(random)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
