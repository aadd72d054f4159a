import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ConflictError, InvalidArgumentError, InvalidStateError, NotFoundError, OperationFailedError, httpRequest, readBody } from '@virtplug/core';
import { redactUrl, transferError } from '../synthesis/source.js';
import type { AcceptReply, ErrorReply, HelloReply, PrepareReply } from './protocol.js';

/** Where the destination is and how to reach it: its base URL, token and (for https) the CA to trust. */
export interface Destination {
  base: string;
  token: string | undefined;
  ca?: string;
}

async function request(method: 'GET' | 'POST' | 'DELETE', url: URL, to: Destination, body?: { path: string; bytes: number }, timeoutMs = 600_000): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (to.token) headers.authorization = `Bearer ${to.token}`;
  if (body) {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(body.bytes);
  }
  let text: string;
  let status: number;
  try {
    // The receiver may answer (401, 400) before it has read the body; that answer is what counts.
    const res = await httpRequest(url, { method, headers, timeoutMs, ...(to.ca ? { ca: to.ca } : {}), ...(body ? { body: createReadStream(body.path, { highWaterMark: 1 << 20 }) } : {}) });
    status = res.statusCode ?? 0;
    text = (await readBody(res)).toString('utf8');
  } catch (e) {
    throw transferError(`Handoff ${method} ${redactUrl(url.toString())} (destination unreachable, or it closed the stream)`, e, timeoutMs);
  }
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { error: { code: 'operation_failed', message: text.slice(0, 300) } };
  }
  return { status, json };
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

export async function hello(to: Destination): Promise<HelloReply> {
  const url = new URL('/v1/handoff/hello', to.base);
  const r = await request('GET', url, to, undefined, 30_000);
  if (r.status !== 200) throw failure(to.base, r.status, r.json);
  return r.json as HelloReply;
}

export async function sendResidue(to: Destination, path: string, params: { name: string; baseId: string }): Promise<AcceptReply> {
  const url = new URL('/v1/handoff', to.base);
  url.searchParams.set('name', params.name);
  url.searchParams.set('base', params.baseId);
  const bytes = (await stat(path)).size;
  const r = await request('POST', url, to, { path, bytes });
  if (r.status !== 200) throw failure(to.base, r.status, r.json);
  const reply = r.json as AcceptReply;
  if (!reply?.instance?.uuid) throw new InvalidStateError(`Handoff destination ${redactUrl(to.base)} answered 200 without an instance; the source is kept.`);
  return reply;
}

/** Pre-copy round (v2): the destination rebuilds from this residue and waits for the final one. */
export async function prepareResidue(to: Destination, path: string, params: { name: string; baseId: string }): Promise<PrepareReply> {
  const url = new URL('/v1/handoff/prepare', to.base);
  url.searchParams.set('name', params.name);
  url.searchParams.set('base', params.baseId);
  const r = await request('POST', url, to, { path, bytes: (await stat(path)).size });
  if (r.status !== 200) throw failure(to.base, r.status, r.json);
  return r.json as PrepareReply;
}

/** Final round (v2): the residue against the prepared capture; answers once the instance runs. */
export async function commitResidue(to: Destination, session: string, path: string): Promise<AcceptReply> {
  const url = new URL('/v1/handoff/commit', to.base);
  url.searchParams.set('session', session);
  const r = await request('POST', url, to, { path, bytes: (await stat(path)).size });
  if (r.status !== 200) throw failure(to.base, r.status, r.json);
  const reply = r.json as AcceptReply;
  if (!reply?.instance?.uuid) throw new InvalidStateError(`Handoff destination ${redactUrl(to.base)} answered 200 without an instance; the source is kept.`);
  return reply;
}

/** Best effort: tells the destination to drop a prepared handoff. */
export async function cancelSession(to: Destination, session: string): Promise<void> {
  const url = new URL('/v1/handoff/session', to.base);
  url.searchParams.set('session', session);
  await request('DELETE', url, to, undefined, 30_000).catch(() => undefined);
}
