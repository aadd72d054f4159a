import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, createHttpServer, tokensEqual, isVirtplugError, type ServerTls } from '@virtplug/core';
import type { Cloudlet } from '../cloudlet.js';
import { requestToken } from '../serve/server.js';
import type { SynthesisSession } from '../synthesis/synthesize.js';
import { HANDOFF_VERSION, statusForCode, type AcceptReply, type HelloReply, type PrepareReply } from './protocol.js';

export interface ReceiverOptions {
  token: string;
  host?: string;
  port?: number;
  /** Serve HTTPS only (TLS 1.2+) with this certificate; the Cloudlet facade fills it from [cloudlet] tls_*. */
  tls?: ServerTls;
  /** How long a prepared (pre-copied) handoff waits for its final residue before it is dropped. */
  sessionTtlMs?: number;
  onEvent?: (e: { event: string; [k: string]: unknown }) => void;
}

export interface RunningReceiver {
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function errorBody(e: unknown): { error: { code: string; message: string } } {
  return { error: { code: isVirtplugError(e) ? e.code : 'operation_failed', message: (e as Error).message } };
}

interface Pending {
  id: string;
  session: SynthesisSession;
  timer: NodeJS.Timeout;
}

/**
 * The destination side of a handoff (`virtplug cloudlet handoff-recv`, protocol in
 * docs/cloudlet-format.md §7). The token is checked before a byte of body is read; residues are
 * applied while they stream in; one handoff at a time (2 cores).
 */
export async function startReceiver(cloudlet: Cloudlet, opts: ReceiverOptions): Promise<RunningReceiver> {
  if (!opts.token || opts.token.length < 16) throw new InvalidArgumentError('handoff token', opts.token ? `${opts.token.length} characters` : '(empty)', 'at least 16 characters');
  const ttl = opts.sessionTtlMs ?? 600_000;
  let busy = false;
  let pending: Pending | null = null;
  const event = (e: { event: string; [k: string]: unknown }) => opts.onEvent?.(e);

  const drop = async (reason: string) => {
    const p = pending;
    pending = null;
    busy = false;
    if (!p) return;
    clearTimeout(p.timer);
    await p.session.abort();
    event({ event: 'dropped', session: p.id, reason });
  };

  const server = createHttpServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, statusForCode(isVirtplugError(e) ? e.code : undefined), errorBody(e));
    });
  }, opts.tls);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!tokensEqual(requestToken(req, url), opts.token)) {
      event({ event: 'refused', reason: 'token', path: url.pathname });
      res.setHeader('connection', 'close');
      send(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong handoff token' } });
      req.destroy();
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    const len = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    const source = { stream: req, bytes: len, describe: 'handoff stream' };
    const name = url.searchParams.get('name') ?? undefined;
    const baseId = url.searchParams.get('base') ?? undefined;
    if (route === 'GET /v1/handoff/hello') {
      const reply: HelloReply = { version: HANDOFF_VERSION, bases: (await cloudlet.listBases()).map((b) => b.id), machine: await cloudlet.driver.memoryImages.machineSignature() };
      return send(res, 200, reply);
    }
    if (route === 'DELETE /v1/handoff/session') {
      if (pending?.id === url.searchParams.get('session')) await drop('cancelled by the source');
      return send(res, 200, {});
    }
    if (route === 'POST /v1/handoff/commit') {
      const p = pending;
      if (!p || p.id !== url.searchParams.get('session')) {
        req.resume();
        return send(res, 404, { error: { code: 'not_found', message: `no prepared handoff ${url.searchParams.get('session')}` } });
      }
      clearTimeout(p.timer);
      pending = null;
      try {
        await p.session.staged.apply(req, { sourceBytes: len, final: true });
        const r = await p.session.launch('handoff');
        const reply: AcceptReply = { instance: { uuid: r.instance.uuid, name: r.instance.name }, timings: r.timings, received_bytes: len ?? 0 };
        event({ event: 'launched', instance: reply.instance.name, ms: Math.round(r.timings.total_ms) });
        return send(res, 200, reply);
      } catch (e) {
        await p.session.abort();
        event({ event: 'failed', message: (e as Error).message });
        throw e;
      } finally {
        busy = false;
      }
    }
    if (route !== 'POST /v1/handoff' && route !== 'POST /v1/handoff/prepare') return send(res, 404, { error: { code: 'not_found', message: `no route ${route}` } });
    if (busy) {
      req.resume();
      return send(res, 409, { error: { code: 'locked', message: 'a handoff is already being received; retry when it is done' } });
    }
    busy = true;
    event({ event: 'receiving', bytes: len, route });
    if (route === 'POST /v1/handoff') {
      try {
        const r = await cloudlet.synthesize({ source, ...(name ? { name } : {}), ...(baseId ? { baseId } : {}), origin: 'handoff' });
        const reply: AcceptReply = { instance: { uuid: r.instance.uuid, name: r.instance.name }, timings: r.timings, received_bytes: len ?? 0 };
        event({ event: 'launched', instance: reply.instance.name, ms: Math.round(r.timings.total_ms) });
        return send(res, 200, reply);
      } catch (e) {
        event({ event: 'failed', message: (e as Error).message });
        throw e;
      } finally {
        busy = false;
      }
    }
    // Pre-copy round: rebuild now, launch on commit.
    let session: SynthesisSession | null = null;
    try {
      session = await cloudlet.openSynthesis({ ...(name ? { name } : {}), ...(baseId ? { baseId } : {}) });
      await session.staged.apply(req, { sourceBytes: len, final: false });
    } catch (e) {
      await session?.abort();
      busy = false;
      throw e;
    }
    const id = randomUUID();
    pending = { id, session, timer: setTimeout(() => void drop('no final residue in time'), ttl) };
    pending.timer.unref();
    const reply: PrepareReply = { session: id, received_bytes: len ?? 0 };
    event({ event: 'prepared', session: id });
    return send(res, 200, reply);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    port: addr.port,
    close: async () => {
      await drop('receiver stopped');
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}
