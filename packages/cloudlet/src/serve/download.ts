import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { InvalidArgumentError, OperationFailedError } from '@virtplug/core';
import type { ParsedHeader } from '../overlay/container.js';
import { verifyOverlayFile } from '../overlay/verify.js';
import { httpGet, httpStatusError, redactUrl, type HttpOptions } from '../synthesis/source.js';
import { writeJsonAtomic } from '@virtplug/core';

export interface DownloadOptions extends HttpOptions {
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface Downloaded {
  path: string;
  bytes: number;
  /** Bytes already present from an interrupted earlier attempt. */
  resumedFrom: number;
  header: ParsedHeader;
}

interface PartMeta {
  url: string;
  etag?: string;
  size?: number;
}

/**
 * Downloads an overlay to `dest` with resume: bytes land in `dest.part` (described by
 * `dest.part.json`); a later call continues with `Range` + `If-Range`. The file is verified (sizes
 * and every hash) before it is renamed to `dest`; a file that fails verification is deleted.
 */
export async function downloadOverlay(url: string, dest: string, opts: DownloadOptions = {}): Promise<Downloaded> {
  const part = `${dest}.part`;
  const metaPath = `${dest}.part.json`;
  const key = redactUrl(url);
  const prev = await readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as PartMeta, () => null);
  let have = prev && prev.url === key ? ((await stat(part).catch(() => null))?.size ?? 0) : 0;
  if (!prev || prev.url !== key) await rm(part, { force: true });
  const headers: Record<string, string> = {};
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    if (prev?.etag) headers['if-range'] = prev.etag;
  }
  const res = await httpGet(url, { ...opts, headers: { ...(opts.headers ?? {}), ...headers } });
  const resumedFrom = res.statusCode === 206 ? have : 0;
  let total: number;
  if (res.statusCode === 416 && have > 0 && prev?.size === have) {
    res.resume();
    total = have;
  } else if (res.statusCode === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      res.resume();
      throw new OperationFailedError(`${key} answered a range that does not continue the partial download (${res.headers['content-range'] ?? 'none'}); delete ${part} and retry.`);
    }
    total = Number(m[3]);
  } else if (res.statusCode === 200) {
    have = 0;
    total = Number(res.headers['content-length'] ?? NaN);
  } else {
    res.resume();
    throw httpStatusError(url, res.statusCode);
  }
  if (res.statusCode !== 416) {
    if (have === 0) await truncate(part, 0).catch(() => undefined);
    await writeJsonAtomic(metaPath, { url: key, etag: res.headers.etag, size: Number.isFinite(total) ? total : undefined } satisfies PartMeta);
    let done = have;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        opts.onProgress?.({ done, total });
        cb(null, chunk);
      },
    });
    // On a network error the .part file and its meta stay, so the next call resumes.
    await pipeline(res, count, createWriteStream(part, { flags: have > 0 ? 'a' : 'w' }));
    if (Number.isFinite(total) && done !== total) {
      throw new OperationFailedError(`Download of ${key} stopped at ${done} of ${total} bytes; run it again to resume.`);
    }
  }
  let header: ParsedHeader;
  try {
    header = await verifyOverlayFile(part);
  } catch (e) {
    await rm(part, { force: true });
    await rm(metaPath, { force: true });
    throw e instanceof InvalidArgumentError ? e : new OperationFailedError(`Downloaded overlay failed verification: ${(e as Error).message}`, {}, { cause: e });
  }
  await rename(part, dest);
  await rm(metaPath, { force: true });
  return { path: dest, bytes: header.totalBytes, resumedFrom, header };
}
