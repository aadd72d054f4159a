import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { ServerTls } from './tls-files.js';

/**
 * A plain HTTP server, or with `tls` an HTTPS-only one (TLS 1.2 or later): a plain HTTP request to it
 * fails the handshake. `onTlsError` hears refused handshakes (for a log line; never the request).
 */
export function createHttpServer(listener: RequestListener, tls?: ServerTls, onTlsError?: (remote: string | undefined, reason: string) => void): Server {
  if (!tls) return createServer(listener);
  const server = createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, listener);
  server.on('tlsClientError', (e: Error, socket) => onTlsError?.(socket.remoteAddress, e.message));
  return server;
}
