import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { InvalidArgumentError, createHttpServer, tokensEqual, type ServerTls } from '@virtplug/core';
import { parseRange } from './range.js';

export interface ServeOptions {
  /** Directory whose overlay files are served by base name (nothing below it, nothing above). */
  dir: string;
  token: string;
  host?: string;
  port?: number;
  /** Serve HTTPS only (TLS 1.2+) with this certificate; the Cloudlet facade fills it from [cloudlet] tls_*. */
  tls?: ServerTls;
  onRequest?: (info: { method: string; path: string; status: number; bytes: number }) => void;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** The token from `Authorization: Bearer …` or `?token=`; never logged. */
export function requestToken(req: http.IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  return url.searchParams.get('token') ?? undefined;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves overlay files over HTTP with single-range support (206 / 416), HEAD, ETag and
 * If-Range, behind a token. Names are plain file names: no paths, no traversal.
 */
export async function serveOverlays(opts: ServeOptions): Promise<RunningServer> {
  if (!opts.token || opts.token.length < 16) throw new InvalidArgumentError('serve token', opts.token ? `${opts.token.length} characters` : '(empty)', 'at least 16 characters');
  const root = resolve(opts.dir);
  const server = createHttpServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  }, opts.tls);
  const log = (req: http.IncomingMessage, path: string, status: number, bytes: number) => opts.onRequest?.({ method: req.method ?? '', path, status, bytes });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const name = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    if (!tokensEqual(requestToken(req, url), opts.token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="virtplug-cloudlet"', 'content-type': 'text/plain' }).end('missing or wrong token\n');
      return log(req, url.pathname, 401, 0);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return log(req, url.pathname, 405, 0);
    }
    const path = join(root, name);
    const st = SAFE_NAME.test(name) && path.startsWith(root + sep) ? await stat(path).catch(() => null) : null;
    if (!st?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such overlay\n');
      return log(req, url.pathname, 404, 0);
    }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const ifRange = req.headers['if-range'];
    let range = parseRange(req.headers.range, st.size);
    if (ifRange && ifRange !== etag) range = 'all';
    const common = { 'accept-ranges': 'bytes', etag, 'content-type': 'application/octet-stream', 'last-modified': st.mtime.toUTCString() };
    if (range === null) {
      res.writeHead(416, { ...common, 'content-range': `bytes */${st.size}` }).end();
      return log(req, url.pathname, 416, 0);
    }
    const { start, end } = range === 'all' ? { start: 0, end: st.size - 1 } : range;
    const length = st.size === 0 ? 0 : end - start + 1;
    const status = range === 'all' ? 200 : 206;
    res.writeHead(status, { ...common, 'content-length': String(length), ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return log(req, url.pathname, status, 0);
    }
    const rs = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
    rs.on('error', () => res.destroy());
    res.on('close', () => rs.destroy());
    rs.pipe(res);
    res.on('finish', () => log(req, url.pathname, status, length));
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
