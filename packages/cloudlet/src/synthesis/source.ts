import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError, OperationFailedError } from '@virtplug/core';

export interface OpenedSource {
  stream: Readable;
  /** Content-Length or file size. */
  bytes?: number;
  describe: string;
}

export interface HttpOptions {
  /** Sent as `Authorization: Bearer`; a `token` query parameter in the URL works too. */
  token?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** A URL for logs and errors, with any token query parameter masked. */
export function redactUrl(src: string): string {
  try {
    const u = new URL(src);
    if (u.searchParams.has('token')) u.searchParams.set('token', '***');
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return src;
  }
}

/** One GET; resolves with the response once headers are in (status not yet checked). */
export function httpGet(url: string, opts: HttpOptions = {}): Promise<http.IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('overlay URL', redactUrl(url), 'an http:// or https:// URL');
  const mod = u.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { headers, signal: opts.signal, timeout: opts.timeoutMs ?? 30_000 }, resolve);
    req.on('timeout', () => req.destroy(new OperationFailedError(`No response from ${redactUrl(url)} within ${opts.timeoutMs ?? 30_000} ms.`)));
    req.on('error', (e) =>
      reject(e instanceof OperationFailedError ? e : new OperationFailedError(`Cannot fetch ${redactUrl(url)}: ${(e as Error).message}.`, { url: redactUrl(url) }, { cause: e })),
    );
  });
}

export function httpStatusError(url: string, status: number | undefined, body = ''): Error {
  if (status === 401 || status === 403) return new InvalidArgumentError(`token for ${redactUrl(url)}`, '(refused)', 'the token the server was started with (--token / serve_token_file)');
  if (status === 404) return new NotFoundError('overlay URL', redactUrl(url), 'check the file name the server serves');
  return new OperationFailedError(`GET ${redactUrl(url)} answered HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}.`, { status });
}

/** Opens an overlay file or URL as a byte stream from offset 0. */
export async function openSource(src: string, opts: HttpOptions = {}): Promise<OpenedSource> {
  if (isUrl(src)) {
    const res = await httpGet(src, opts);
    if (res.statusCode !== 200) {
      res.resume();
      throw httpStatusError(src, res.statusCode);
    }
    const len = res.headers['content-length'];
    return { stream: res, bytes: len !== undefined ? Number(len) : undefined, describe: redactUrl(src) };
  }
  const st = await stat(src).catch(() => null);
  if (!st?.isFile()) throw new NotFoundError('overlay file', src, 'give a path to an overlay file or an http(s) URL');
  return { stream: createReadStream(src, { highWaterMark: 1 << 20 }), bytes: st.size, describe: src };
}
