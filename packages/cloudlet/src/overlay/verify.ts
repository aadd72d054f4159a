import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InvalidArgumentError } from '@virtplug/core';
import { CHUNK_SIZE, toRuns } from '../util/chunks.js';
import { readOverlay } from '../synthesis/read-overlay.js';
import { httpGet, httpStatusError, type HttpOptions } from '../synthesis/source.js';
import { FIXED_HEADER, headerLength, parseHeader, type ParsedHeader } from './container.js';
import { decodeItems, KIND_MEMORY } from './items.js';
import type { CompressionPool } from './pool.js';

/** Reads only the header of an overlay file (info-overlay): cheap, no payload read. */
export async function readOverlayHeader(path: string): Promise<ParsedHeader & { fileBytes: number }> {
  const fh = await open(path, 'r');
  try {
    const fixed = Buffer.alloc(FIXED_HEADER);
    await fh.read(fixed, 0, FIXED_HEADER, 0);
    const len = headerLength(fixed);
    const all = Buffer.alloc(len);
    const { bytesRead } = await fh.read(all, 0, len, 0);
    const h = parseHeader(all.subarray(0, bytesRead));
    return { ...h, fileBytes: (await fh.stat()).size };
  } finally {
    await fh.close();
  }
}

async function rangeGet(url: string, start: number, end: number, opts: HttpOptions): Promise<{ data: Buffer; total: number }> {
  const res = await httpGet(url, { ...opts, headers: { ...(opts.headers ?? {}), range: `bytes=${start}-${end}` } });
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  if (res.statusCode !== 206 && res.statusCode !== 200) throw httpStatusError(url, res.statusCode);
  const total = Number(/\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1] ?? res.headers['content-length'] ?? NaN);
  const data = Buffer.concat(parts);
  // A server without Range support sends everything from 0.
  return { data: res.statusCode === 200 ? data.subarray(start, end + 1) : data, total };
}

/** The header of a served overlay, read with HTTP Range requests (elijah reads its meta the same way). */
export async function readOverlayHeaderFromUrl(url: string, opts: HttpOptions = {}): Promise<ParsedHeader & { fileBytes: number }> {
  const first = await rangeGet(url, 0, 65535, opts);
  const len = headerLength(first.data.subarray(0, FIXED_HEADER));
  const all = first.data.length >= len ? first.data : Buffer.concat([first.data, (await rangeGet(url, first.data.length, len - 1, opts)).data]);
  return { ...parseHeader(all.subarray(0, len)), fileBytes: first.total };
}

/**
 * Full check of an overlay file: exact size, manifest checksum, every section's SHA-256 and the
 * overall one; with a pool, also decompresses each blob and checks its items against the manifest.
 */
export async function verifyOverlayFile(path: string, pool?: CompressionPool): Promise<ParsedHeader> {
  const size = (await stat(path)).size;
  return readOverlay(createReadStream(path, { highWaterMark: 1 << 20 }), {
    sourceBytes: size,
    onHeader: () => undefined,
    onSection: async (s) => {
      if (!pool || s.kind !== 'blob') return;
      const raw = await pool.decompress(s.entry.compression, s.data, s.entry.raw_size);
      const mem: number[] = [];
      const disk: number[] = [];
      let n = 0;
      for (const it of decodeItems(raw)) {
        n++;
        (it.kind === KIND_MEMORY ? mem : disk).push(it.offset / CHUNK_SIZE);
      }
      const same = (a: Array<[number, number]>, b: Array<[number, number]>) => JSON.stringify(a) === JSON.stringify(b);
      if (n !== s.entry.items || !same(toRuns(mem), s.entry.memory_runs) || !same(toRuns(disk), s.entry.disk_runs)) {
        throw new InvalidArgumentError(`blob ${s.index} contents`, `${n} items`, `the ${s.entry.items} items its manifest declares`);
      }
    },
  });
}
