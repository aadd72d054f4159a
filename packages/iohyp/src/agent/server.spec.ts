import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { memoryAgent, removeTempDirs } from '../testing/in-memory.js';
import { HttpAgentClient } from './client.js';
import { OPERATIONS } from './operations.js';
import { createAgentServer } from './server.js';

const TOKEN = 'unit-test-token-0123456789';

describe('IOhyp agent HTTP server', () => {
  let server: Server;
  let base: string;
  const agent = memoryAgent();
  const logs: string[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
    server = createAgentServer(agent.service, TOKEN, logger);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())).then(removeTempDirs));

  const post = (path: string, body: unknown, token: string | null = TOKEN, method = 'POST') =>
    fetch(`${base}${path}`, { method, headers: { 'Content-Type': 'application/json', ...(token !== null ? { Authorization: `Bearer ${token}` } : {}) }, ...(method === 'POST' ? { body: JSON.stringify(body) } : {}) });

  it('refuses a missing or wrong token with 401 before looking at the operation', async () => {
    for (const token of [null, 'wrong-token', `${TOKEN}x`, '']) {
      const res = await post('/v1/ops/status', {}, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await post('/v1/ops/no_such_op', {}, 'wrong')).status).toBe(401);
    expect(logs.join('')).not.toContain(TOKEN);
  });

  it('answers unknown operations with 404 and lists the allowed ones', async () => {
    for (const path of ['/v1/ops/run_shell', '/v1/ops/__proto__', '/v1/ops/constructor', '/v1/ops/../status', '/', '/v1/ops/status/x']) {
      const res = await post(path, {});
      expect(res.status).toBe(404);
    }
    const body = (await (await post('/v1/ops/exec', {})).json()) as { error: { message: string } };
    expect(body.error.message).toContain('/v1/ops/iohyp_create_blk_device');
    expect(Object.keys(OPERATIONS).sort()).toEqual(
      ['connect_backend', 'disconnect_backend', 'ensure_segment_port', 'iohyp_create_blk_device', 'iohyp_remove_blk_device', 'release_segment_port', 'status'].sort(),
    );
  });

  it('accepts only POST', async () => {
    expect((await post('/v1/ops/status', undefined, TOKEN, 'GET')).status).toBe(405);
  });

  it('validates input before running anything (quotes, traversal, ranges, unknown keys)', async () => {
    const bad: Array<[string, unknown]> = [
      ['connect_backend', { id: '../x', backend: { type: 'file', path: '/var/tmp/a', format: 'raw' } }],
      ['connect_backend', { id: 'a', backend: { type: 'file', path: '/var/tmp/../etc/shadow', format: 'raw' } }],
      ['connect_backend', { id: 'a', backend: { type: 'iscsi', portal: '10.0.0.1:3260', iqn: 'iqn.2026-11.x:"; rm -rf /', lun: 1 } }],
      ['ensure_segment_port', { segment: { type: 'vlan', id: 4095 }, address: '10.0.0.1/24', holder: 'h' }],
      ['ensure_segment_port', { segment: { type: 'vlan', id: 100 }, address: '10.0.0.1', holder: 'h' }],
      ['iohyp_create_blk_device', { id: 'a', backendId: 'a', segment: { type: 'vlan', id: 1 }, name: 'x y', allow: null }],
      ['iohyp_create_blk_device', { id: 'a', backendId: 'a', segment: { type: 'vlan', id: 1 }, name: 'x', allow: ['10.0.0.1 ; drop'] }],
      ['status', { extra: 1 }],
    ];
    for (const [op, body] of bad) {
      const res = await post(`/v1/ops/${op}`, body);
      expect([op, res.status]).toEqual([op, 400]);
    }
    expect(agent.connector.connected).toEqual([]);
    const res = await fetch(`${base}/v1/ops/status`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{not json' });
    expect(res.status).toBe(400);
  });

  it('serves the allow-listed operations to the client, and maps errors to core types', async () => {
    const client = new HttpAgentClient('hyp1', base, TOKEN);
    const b = await client.connectBackend('b1', { type: 'iscsi', portal: '10.88.1.1:3260', iqn: 'iqn.2026-11.io.virtplug.lab:vol1', lun: 1, chap: { username: 'u', password: 'pw-never-logged' } });
    expect(b).toEqual({ id: 'b1', url: 'iscsi://10.88.1.1:3260/iqn.2026-11.io.virtplug.lab:vol1/1', type: 'iscsi', sizeBytes: 64 << 20, chap: true });
    await client.ensureSegmentPort({ type: 'vlan', id: 100 }, '10.88.100.1/24', 'b1');
    const e = await client.createExport({ id: 'b1', backendId: 'b1', segment: { type: 'vlan', id: 100 }, name: 'vol1', allow: ['10.88.100.2'] });
    expect(e).toMatchObject({ host: '10.88.100.1', port: 10900, name: 'vol1', alive: true });
    await expect(client.disconnectBackend('b1')).rejects.toMatchObject({ code: 'conflict', details: { remoteCode: 'conflict', op: 'disconnect_backend' } });
    await expect(client.createExport({ id: 'b2', backendId: 'nope', segment: { type: 'vlan', id: 100 }, name: 'v', allow: null })).rejects.toMatchObject({
      code: 'operation_failed',
      details: { remoteCode: 'not_found', httpStatus: 404 },
    });
    expect((await client.removeExport('b1')).removed).toBe(true);
    expect((await client.releaseSegmentPort({ type: 'vlan', id: 100 }, 'b1')).removed).toBe(true);
    expect((await client.disconnectBackend('b1')).removed).toBe(true);
    await expect(new HttpAgentClient('hyp1', base, 'wrong-token-xxxxxxxx').status()).rejects.toMatchObject({ code: 'hypervisor_unavailable' });
    await expect(new HttpAgentClient('hyp9', 'http://127.0.0.1:1', TOKEN, 2000).status()).rejects.toMatchObject({ code: 'transient' });
    expect(logs.join('')).not.toContain('pw-never-logged');
  });
});
