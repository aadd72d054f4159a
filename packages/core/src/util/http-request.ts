import { request as httpRequestRaw, type IncomingMessage } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  /** What to send: bytes (Content-Length is set) or a stream (the caller sets Content-Length). */
  body?: string | Buffer | Readable;
  /** Socket idle time before the request is given up (error code ETIMEDOUT). */
  timeoutMs: number;
  /** PEM CA bundle trusted for an https URL, in place of the system's. */
  ca?: string;
  signal?: AbortSignal;
}

/** A request that got no HTTP answer: `code` is Node's (ECONNREFUSED, ETIMEDOUT, DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
export class HttpRequestError extends Error {
  readonly tls: boolean;
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.tls = TLS_CODE.test(code);
  }
}

const TLS_CODE = /CERT|TLS|SSL|SIGNATURE|ALTNAME|ISSUER/;

/**
 * One HTTP(S) request; resolves with the response as soon as its headers are in (status not
 * checked, body not read: see readBody). node:http(s) rather than fetch, because fetch cannot be
 * given a CA without the undici package, and labs and private deployments sign their own
 * certificates. https never goes below TLS 1.2.
 */
export function httpRequest(url: string | URL, o: HttpRequestOptions): Promise<IncomingMessage> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new HttpRequestError(`not an http(s) URL: ${u.protocol}`, 'EPROTO'));
  const tls = u.protocol === 'https:';
  const headers = { ...o.headers };
  if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) headers['content-length'] = String(Buffer.byteLength(o.body));
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = (tls ? httpsRequestRaw : httpRequestRaw)(
      u,
      {
        method: o.method ?? 'GET',
        headers,
        timeout: o.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(tls ? { minVersion: 'TLSv1.2' as const, ...(o.ca ? { ca: o.ca } : {}) } : {}),
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new HttpRequestError(`no answer within ${o.timeoutMs} ms`, 'ETIMEDOUT')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof HttpRequestError ? e : new HttpRequestError(e.message, e.code ?? e.name, { cause: e })));
    const body = o.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    }
  });
}

/** The whole response body; a response larger than `maxBytes` is cut off with an error. */
export function readBody(res: IncomingMessage, maxBytes = 64 << 20): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new HttpRequestError(`response larger than ${maxBytes} bytes`, 'E2BIG'));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (e: NodeJS.ErrnoException) => reject(new HttpRequestError(e.message, e.code ?? 'EIO', { cause: e })));
  });
}
