import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** PEM CA bundle trusted for an https URL (in place of the system's CAs). */
  ca?: string;
}

export interface PostResult {
  status: number;
  body: string;
}

/** Failure before an HTTP answer: `code` is Node's (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
export class PostError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly tls: boolean,
  ) {
    super(message);
  }
}

const TLS_CODE = /CERT|TLS|SSL|SIGNATURE|ALTNAME|ISSUER/;

/**
 * One JSON POST over http or https. node:https rather than fetch because fetch cannot be given a CA
 * without the undici package: a lab or a private deployment signs its agents' certificates itself.
 */
export function postJson(url: string, body: string, o: PostOptions): Promise<PostResult> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        headers: { ...o.headers, 'Content-Length': String(Buffer.byteLength(body)) },
        timeout: o.timeoutMs,
        ...(u.protocol === 'https:' ? { minVersion: 'TLSv1.2' as const, ...(o.ca ? { ca: o.ca } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e: NodeJS.ErrnoException) => reject(new PostError(e.message, e.code ?? 'EIO', false)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.name;
      reject(new PostError(e.message, code, TLS_CODE.test(code)));
    });
    req.end(body);
  });
}
