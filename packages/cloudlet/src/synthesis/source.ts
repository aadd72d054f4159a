import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { HttpRequestError, InvalidArgumentError, NotFoundError, OperationFailedError, httpRequest } from '@virtplug/core';

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
  /** PEM CA bundle trusted for https URLs ([cloudlet] tls_ca_file); default: the system's CAs. */
  ca?: string;
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
export async function httpGet(url: string, opts: HttpOptions = {}): Promise<IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('overlay URL', redactUrl(url), 'an http:// or https:// URL');
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  try {
    return await httpRequest(u, { headers, timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.ca ? { ca: opts.ca } : {}) });
  } catch (e) {
    throw transferError(`GET ${redactUrl(url)}`, e, timeoutMs);
  }
}

/** A request that got no answer, as the error users see: timeouts and TLS failures say what to check. */
export function transferError(what: string, e: unknown, timeoutMs: number): Error {
  const err = e as HttpRequestError;
  if (err instanceof HttpRequestError && err.code === 'ETIMEDOUT') return new OperationFailedError(`${what}: no response within ${timeoutMs} ms.`, {}, { cause: e });
  if (err instanceof HttpRequestError && err.tls) {
    return new OperationFailedError(`${what}: TLS failed (${err.code}: ${err.message}); the server's certificate must be signed by the CA in [cloudlet] tls_ca_file (or --ca-file) and name the address used.`, { tlsError: err.code }, { cause: e });
  }
  return new OperationFailedError(`${what} failed: ${(e as Error).message}.`, {}, { cause: e });
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
