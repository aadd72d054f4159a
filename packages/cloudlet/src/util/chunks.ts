/** Chunk geometry shared by disk and memory: elijah's CHUNK_SIZE, and the x86 page size. */
export const CHUNK_SIZE = 4096;

const ZERO_CHUNK = Buffer.alloc(CHUNK_SIZE);

/** True when every byte is zero; compares against a shared zero buffer (memcmp speed). */
export function isZero(buf: Uint8Array): boolean {
  if (buf.length === CHUNK_SIZE) return ZERO_CHUNK.equals(buf);
  for (let off = 0; off < buf.length; off += CHUNK_SIZE) {
    const end = Math.min(buf.length, off + CHUNK_SIZE);
    if (!ZERO_CHUNK.subarray(0, end - off).equals(buf.subarray(off, end))) return false;
  }
  return true;
}

/** Number of chunks covering `bytes` (the last one may be partial). */
export function chunkCount(bytes: number): number {
  return Math.ceil(bytes / CHUNK_SIZE);
}

/** Run-length form of a sorted index list: [[start, count], ...]. Keeps manifests small. */
export function toRuns(indexes: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const i of indexes) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === i) last[1]++;
    else runs.push([i, 1]);
  }
  return runs;
}

export function fromRuns(runs: ReadonlyArray<readonly [number, number]>): number[] {
  const out: number[] = [];
  for (const [start, count] of runs) for (let i = 0; i < count; i++) out.push(start + i);
  return out;
}

export function runsCount(runs: ReadonlyArray<readonly [number, number]>): number {
  let n = 0;
  for (const [, c] of runs) n += c;
  return n;
}
