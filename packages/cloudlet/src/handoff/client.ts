import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { ConflictError, InvalidArgumentError, InvalidStateError, NotFoundError, OperationFailedError } from '@virtplug/core';
import { redactUrl } from '../synthesis/source.js';
import type { AcceptReply, ErrorReply, HelloReply, PrepareReply } from './protocol.js';

function request(method: 'GET' | 'POST' | 'DELETE', url: URL, token: string | undefined, body?: { path: string; bytes: number }, timeoutMs = 600_000): Promise<{ status: number; json: unknown }> {
  const mod = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body) {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(body.bytes);
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = { error: { code: 'operation_failed', message: text.slice(0, 300) } };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new OperationFailedError(`${method} ${redactUrl(url.toString())} timed out after ${timeoutMs} ms.`)));
    // The receiver may answer (401, 400) before it has read the body; that answer is what counts.
    req.on('error', (e) => reject(new OperationFailedError(`Handoff destination ${redactUrl(url.toString())} is unreachable or closed the stream: ${e.message}.`, {}, { cause: e })));
    if (body) {
      const rs = createReadStream(body.path, { highWaterMark: 1 << 20 });
      rs.on('error', (e) => req.destroy(e));
      rs.pipe(req);
    } else req.end();
  });
}

function failure(url: string, status: number, json: unknown): Error {
  const err = (json as ErrorReply | null)?.error;
  const msg = `Handoff destination ${redactUrl(url)} refused (HTTP ${status}): ${err?.message ?? 'no reason given'}`;
  if (status === 401) return new InvalidArgumentError(`handoff token for ${redactUrl(url)}`, '(refused)', 'the token the destination handoff-recv was started with');
  if (status === 404) return new NotFoundError('handoff destination resource', redactUrl(url), err?.message ?? '');
  if (status === 409) return new ConflictError(msg, { status });
  if (status === 400) return new InvalidArgumentError('handoff residue', err?.message ?? status, 'an overlay the destination accepts');
  return new OperationFailedError(msg, { status });
}

export async function hello(base: string, token: string | undefined): Promise<HelloReply> {
  const url = new URL('/v1/handoff/hello', base);
  const r = await request('GET', url, token, undefined, 30_000);
  if (r.status !== 200) throw failure(base, r.status, r.json);
  return r.json as HelloReply;
}

export async function sendResidue(base: string, token: string, path: string, params: { name: string; baseId: string }): Promise<AcceptReply> {
  const url = new URL('/v1/handoff', base);
  url.searchParams.set('name', params.name);
  url.searchParams.set('base', params.baseId);
  const bytes = (await stat(path)).size;
  const r = await request('POST', url, token, { path, bytes });
  if (r.status !== 200) throw failure(base, r.status, r.json);
  const reply = r.json as AcceptReply;
  if (!reply?.instance?.uuid) throw new InvalidStateError(`Handoff destination ${redactUrl(base)} answered 200 without an instance; the source is kept.`);
  return reply;
}

/** Pre-copy round (v2): the destination rebuilds from this residue and waits for the final one. */
export async function prepareResidue(base: string, token: string, path: string, params: { name: string; baseId: string }): Promise<PrepareReply> {
  const url = new URL('/v1/handoff/prepare', base);
  url.searchParams.set('name', params.name);
  url.searchParams.set('base', params.baseId);
  const r = await request('POST', url, token, { path, bytes: (await stat(path)).size });
  if (r.status !== 200) throw failure(base, r.status, r.json);
  return r.json as PrepareReply;
}

/** Final round (v2): the residue against the prepared capture; answers once the instance runs. */
export async function commitResidue(base: string, token: string, session: string, path: string): Promise<AcceptReply> {
  const url = new URL('/v1/handoff/commit', base);
  url.searchParams.set('session', session);
  const r = await request('POST', url, token, { path, bytes: (await stat(path)).size });
  if (r.status !== 200) throw failure(base, r.status, r.json);
  const reply = r.json as AcceptReply;
  if (!reply?.instance?.uuid) throw new InvalidStateError(`Handoff destination ${redactUrl(base)} answered 200 without an instance; the source is kept.`);
  return reply;
}

/** Best effort: tells the destination to drop a prepared handoff. */
export async function cancelSession(base: string, token: string, session: string): Promise<void> {
  const url = new URL('/v1/handoff/session', base);
  url.searchParams.set('session', session);
  await request('DELETE', url, token, undefined, 30_000).catch(() => undefined);
}
