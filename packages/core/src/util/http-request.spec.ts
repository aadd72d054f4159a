import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpRequestError, httpRequest, readBody } from './http-request.js';

/** Against a real loopback server that echoes what it received. */
describe('httpRequest', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, length: req.headers['content-length'] ?? null, auth: req.headers.authorization ?? null, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const echo = async (path: string, o: Parameters<typeof httpRequest>[1]) => {
    const res = await httpRequest(`${base}${path}`, o);
    return { status: res.statusCode, json: JSON.parse((await readBody(res)).toString('utf8')) as Record<string, unknown> };
  };

  it('sends a string body with its length and headers, and reads the answer', async () => {
    const r = await echo('/x', { method: 'POST', body: '{"a":"é"}', headers: { authorization: 'Bearer t' }, timeoutMs: 5_000 });
    expect(r).toEqual({ status: 200, json: { method: 'POST', length: '10', auth: 'Bearer t', body: '{"a":"é"}' } });
  });

  it('streams a body and hands back non-2xx answers for the caller to judge', async () => {
    const r = await echo('/missing', { method: 'POST', body: Readable.from(['ab', 'cd']), headers: { 'content-length': '4' }, timeoutMs: 5_000 });
    expect(r.status).toBe(404);
    expect(r.json.body).toBe('abcd');
  });

  it('gives up on a silent server with ETIMEDOUT, and on a closed port with ECONNREFUSED', async () => {
    await expect(httpRequest(`${base}/slow`, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT', tls: false, message: 'no answer within 200 ms' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(httpRequest(`http://127.0.0.1:${port}/`, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses other schemes, and a body over the limit', async () => {
    await expect(httpRequest('ftp://127.0.0.1/x', { timeoutMs: 1_000 })).rejects.toBeInstanceOf(HttpRequestError);
    const res = await httpRequest(`${base}/big`, { method: 'POST', body: 'x'.repeat(100), timeoutMs: 5_000 });
    await expect(readBody(res, 50)).rejects.toMatchObject({ code: 'E2BIG' });
  });
});
