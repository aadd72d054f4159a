import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationFailedError, TimeoutError } from '@virtplug/core';
import { AgentClient } from './client.js';

/** A stand-in for the guest agent behind QEMU's channel socket: one client at a time, JSON lines. */
class FakeAgent {
  server: Server;
  sockets: Socket[] = [];
  received: Array<Record<string, unknown>> = [];
  mode: 'answer' | 'silent' | 'late' = 'answer';
  /** Requests swallowed before answering (a booting guest drops what reaches its port too early). */
  dropFirst = 0;

  constructor(readonly path: string) {
    this.server = createServer((s) => {
      this.sockets.push(s);
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
          buf = buf.slice(i + 1);
          this.received.push(req);
          this.reply(s, req);
        }
      });
    });
  }

  private reply(s: Socket, req: Record<string, unknown>) {
    if (this.mode === 'silent') return;
    if (this.dropFirst > 0) {
      this.dropFirst--;
      return;
    }
    const answer = req.op === 'fail' ? { id: req.id, ok: false, error: 'no such thing' } : { id: req.id, ok: true, result: { op: req.op, echo: req.x ?? null } };
    if (this.mode === 'late') setTimeout(() => s.write(JSON.stringify(answer) + '\n'), 150);
    // Noise the client must skip: a non-JSON line and an answer to someone else's id.
    else {
      // Two writes in a row usually reach the client as separate chunks: the line arrives split.
      s.write('garbage\n' + JSON.stringify({ id: 99999, ok: true, result: {} }) + '\n' + JSON.stringify(answer).slice(0, 5));
      s.write(JSON.stringify(answer).slice(5) + '\n');
    }
  }

  listen() {
    return new Promise<void>((r) => this.server.listen(this.path, r));
  }
  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('AgentClient', () => {
  let dir: string;
  let agent: FakeAgent;
  let client: AgentClient;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vp-lv-agent-'));
    agent = new FakeAgent(join(dir, 'agent.sock'));
    await agent.listen();
    client = new AgentClient({ socketPath: async () => agent.path, defaultTimeoutMs: 1000, label: 'test' });
  });
  afterEach(async () => {
    await client.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends {id, op, ...args} lines and matches answers by id across split chunks and noise', async () => {
    const [a, b] = await Promise.all([client.request('identity'), client.request('echo', { x: 'hi', id: 'not-mine' })]);
    expect(a).toEqual({ op: 'identity', echo: null });
    expect(b).toEqual({ op: 'echo', echo: 'hi' });
    expect(agent.received.map((r) => typeof r.id)).toEqual(['number', 'number']);
    expect(new Set(agent.received.map((r) => r.id)).size).toBe(2);
  });

  it('turns an agent error into OperationFailedError naming the op', async () => {
    await expect(client.request('fail')).rejects.toThrow(OperationFailedError);
    await expect(client.request('fail')).rejects.toThrow(/Guest agent fail on test failed: no such thing/);
  });

  it('times out per request, and ignores the late answer', async () => {
    agent.mode = 'late';
    await expect(client.request('slow', {}, { timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    agent.mode = 'answer';
    await new Promise((r) => setTimeout(r, 200));
    await expect(client.request('next')).resolves.toEqual({ op: 'next', echo: null });
  });

  it('reconnects after the other end goes away (QEMU restarted)', async () => {
    await client.request('one');
    for (const s of agent.sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await expect(client.request('two')).resolves.toEqual({ op: 'two', echo: null });
    expect(agent.sockets.length).toBe(2);
  });

  it('waitReady pings until the agent answers, and times out with the last error', async () => {
    await expect(client.waitReady(2000)).resolves.toBeUndefined();
    agent.mode = 'silent';
    await expect(client.waitReady(300)).rejects.toThrow(/becoming ready/);
  });

  it('waitReady keeps pinging on one connection, so pings lost while the guest boots cost only the interval', async () => {
    agent.dropFirst = 3;
    const started = Date.now();
    await client.waitReady(10_000, 20);
    expect(agent.sockets).toHaveLength(1);
    expect(agent.received.filter((r) => r.op === 'ping').length).toBeGreaterThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops waiting at once when the client is closed (a failed launch does not wait out the timeout)', async () => {
    agent.mode = 'silent';
    const started = Date.now();
    const waiting = client.waitReady(60_000);
    setTimeout(() => void client.close(), 50);
    await expect(waiting).rejects.toThrow(/closed/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails fast with a clear error when the socket does not exist', async () => {
    const lost = new AgentClient({ socketPath: async () => join(dir, 'missing.sock'), label: 'gone' });
    await expect(lost.request('ping')).rejects.toThrow(/Cannot connect to the guest agent of gone .*ENOENT/);
  });
});
