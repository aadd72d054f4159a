import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createHttpServer, isVirtplugError, tokensEqual, type ErrorCode, type ServerTls } from '@virtplug/core';
import type { Logger } from 'pino';
import { OPERATIONS } from './operations.js';
import type { AgentService } from './service.js';

const MAX_BODY = 64 * 1024;
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  not_found: 404,
  invalid_argument: 400,
  invalid_config: 400,
  conflict: 409,
  invalid_state: 409,
  locked: 423,
  timeout: 504,
  transient: 503,
  hypervisor_unavailable: 503,
};

/**
 * HTTP/JSON front of the agent: `POST /v1/ops/<operation>` with `Authorization: Bearer <token>`.
 * Authentication comes before anything else is looked at, so an unauthenticated caller cannot even
 * learn which operations exist. Bodies are never logged: they can carry CHAP secrets. With `tls` the
 * agent speaks HTTPS only (TLS 1.2 or later); a plain HTTP request to it fails the handshake.
 */
export function createAgentServer(service: AgentService, token: string, logger: Logger, tls?: ServerTls): Server {
  const listener: RequestListener = (req, res) => {
    handle(service, token, logger, req, res).catch((e: unknown) => {
      logger.error({ err: (e as Error).message }, 'request handling failed');
      if (!res.headersSent) send(res, 500, { ok: false, error: { code: 'operation_failed', message: 'internal error' } });
    });
  };
  return createHttpServer(listener, tls, (remote, reason) => logger.warn({ remote, reason }, 'TLS handshake refused'));
}

async function handle(service: AgentService, token: string, logger: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const header = req.headers.authorization ?? '';
  const given = /^Bearer (\S+)$/.exec(header)?.[1];
  if (!given || !tokensEqual(given, token)) {
    req.resume();
    logger.warn({ path: req.url, remote: req.socket.remoteAddress, reason: given ? 'wrong token' : 'no token' }, 'refused');
    res.setHeader('WWW-Authenticate', 'Bearer realm="virtplug-iohyp-agent"');
    return send(res, 401, { ok: false, error: { code: 'unauthorized', message: 'A valid bearer token is required.' } });
  }
  const m = /^\/v1\/ops\/([a-z_]{1,40})$/.exec(req.url ?? '');
  const operation = m && Object.hasOwn(OPERATIONS, m[1]!) ? OPERATIONS[m[1]!] : undefined;
  if (!m || !operation) {
    req.resume();
    return send(res, 404, {
      ok: false,
      error: { code: 'not_found', message: `Unknown operation ${JSON.stringify(req.url)}; allowed: ${Object.keys(OPERATIONS).map((o) => `/v1/ops/${o}`).join(', ')}.` },
    });
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('Allow', 'POST');
    return send(res, 405, { ok: false, error: { code: 'invalid_argument', message: `Use POST for ${req.url}.` } });
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)) || '{}');
  } catch (e) {
    return send(res, (e as { status?: number }).status ?? 400, { ok: false, error: { code: 'invalid_argument', message: (e as Error).message } });
  }
  const parsed = operation.input.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return send(res, 400, {
      ok: false,
      error: { code: 'invalid_argument', message: `Invalid ${m[1]} request at ${issue?.path.join('.') || '(body)'}: ${issue?.message}; expected ${operation.expected}.` },
    });
  }
  const started = Date.now();
  try {
    const result = await operation.run(service, parsed.data);
    logger.info({ op: m[1], ms: Date.now() - started }, 'ok');
    send(res, 200, { ok: true, result });
  } catch (e) {
    const code: ErrorCode = isVirtplugError(e) ? e.code : 'operation_failed';
    logger.warn({ op: m[1], ms: Date.now() - started, code, err: (e as Error).message }, 'failed');
    send(res, STATUS_OF[code] ?? 500, {
      ok: false,
      error: { code, message: (e as Error).message, details: isVirtplugError(e) ? e.details : {}, retryable: isVirtplugError(e) && e.retryable },
    });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`Request body larger than ${MAX_BODY} bytes.`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
