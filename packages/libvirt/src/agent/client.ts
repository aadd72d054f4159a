import { createConnection, type Socket } from 'node:net';
import { OperationFailedError, TimeoutError, TransientError, type GuestAgentClient } from '@virtplug/core';
import type { Logger } from 'pino';

interface Pending {
  op: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface AgentClientOptions {
  /** Where the agent's virtio-serial channel is; resolved on every (re)connect, since it lives in the domain XML. */
  socketPath: () => Promise<string>;
  defaultTimeoutMs?: number;
  logger?: Logger;
  label?: string;
}

/**
 * The project's guest agent (docs/guest-agent.md): newline-delimited JSON on the unix socket libvirt
 * binds for the `org.virtplug.agent.0` channel. Requests carry numeric ids; responses are matched by
 * id, so a late answer to a timed-out request is ignored. The connection is made on first use and
 * made again after QEMU goes away (restart, save/restore). QEMU serves one client per channel socket,
 * so callers share one client per instance (the driver's guestAgent() does that).
 */
export class AgentClient implements GuestAgentClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly options: AgentClientOptions) {}

  async request<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closed) throw new OperationFailedError(`The guest agent client for ${this.label} is closed.`);
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 10_000;
    const started = Date.now();
    const socket = await this.connect(timeoutMs);
    return new Promise<T>((resolve, reject) => {
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`guest agent ${op} on ${this.label}`, timeoutMs, 'is the guest booted and its agent running? (waitReady first)'));
      }, left);
      const id = this.send(socket, op, args, { op, resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** Registers the answer's handlers under a new id and writes the request line; returns the id. */
  private send(socket: Socket, op: string, args: Record<string, unknown>, pending: Pending): number {
    const id = this.nextId++;
    this.pending.set(id, pending);
    socket.write(JSON.stringify({ ...args, id, op }) + '\n', (err) => {
      if (err) this.fail(id, new TransientError(`Could not send ${op} to the guest agent of ${this.label}: ${err.message}`));
    });
    return id;
  }

  /**
   * Resolves at the first answer to a ping. A guest that is still booting drops what reaches its
   * virtio-serial port before its driver and agent are up, so one ping with a long timeout can wait for
   * nothing, and boot times measured that way come out late by up to that timeout. Pings are cheap and
   * idempotent: one goes out every `intervalMs` on the same connection and any answer counts, so
   * readiness is seen within `intervalMs` of the agent serving. The connection is made again only when
   * it breaks (QEMU restarted, or not up yet).
   */
  async waitReady(timeoutMs: number, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (this.closed) throw new OperationFailedError(`The guest agent client for ${this.label} was closed while waiting for the agent.`);
      const left = () => Math.max(1, deadline - Date.now());
      try {
        await this.pingUntilAnswered(left(), intervalMs);
        return;
      } catch (e) {
        last = e;
        this.disconnect(new TransientError('reconnecting'));
        await new Promise((r) => setTimeout(r, Math.min(100, left())));
      }
    }
    throw new TimeoutError(`guest agent of ${this.label} becoming ready`, timeoutMs, `last error: ${(last as Error)?.message ?? 'none'}`);
  }

  private async pingUntilAnswered(timeoutMs: number, intervalMs: number): Promise<void> {
    const socket = await this.connect(Math.min(2_000, timeoutMs));
    const ids: number[] = [];
    let ticker: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TimeoutError(`guest agent ping on ${this.label}`, timeoutMs)), timeoutMs);
        const settle = (f: () => void) => {
          clearTimeout(timer);
          f();
        };
        const ping = () => {
          if (socket.destroyed) return settle(() => reject(new TransientError(`The guest agent connection of ${this.label} closed while waiting.`)));
          ids.push(this.send(socket, 'ping', {}, { op: 'ping', resolve: () => settle(resolve), reject: (e) => settle(() => reject(e)) }));
        };
        ping();
        ticker = setInterval(ping, intervalMs);
      });
    } finally {
      clearInterval(ticker);
      for (const id of ids) this.pending.delete(id); // late answers to the other pings are ignored
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.disconnect(new OperationFailedError(`The guest agent client for ${this.label} was closed.`));
  }

  private get label(): string {
    return this.options.label ?? 'the instance';
  }

  private connect(timeoutMs: number): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open(timeoutMs).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(timeoutMs: number): Promise<Socket> {
    const path = await this.options.socketPath();
    return new Promise<Socket>((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TimeoutError(`connecting to the guest agent socket ${path}`, timeoutMs));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        this.buffer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => this.onData(chunk));
        socket.on('close', () => {
          if (this.socket === socket) this.disconnect(new TransientError(`The guest agent connection of ${this.label} closed (QEMU stopped or restarted); retry.`));
        });
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (this.socket === socket) return; // 'close' follows and fails what is pending
        reject(new TransientError(`Cannot connect to the guest agent of ${this.label} at ${path} (${err.code ?? err.message}); is the instance running?`, { path }));
      });
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; ok?: boolean; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.options.logger?.debug({ line: line.slice(0, 200) }, 'guest agent sent a line that is not JSON; ignored');
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : Number(msg.id);
    const p = this.pending.get(id);
    if (!p) return; // a late answer to a request that already timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result ?? {});
    else p.reject(new OperationFailedError(`Guest agent ${p.op} on ${this.label} failed: ${String(msg.error ?? 'unknown error')}`, { op: p.op }));
  }

  private fail(id: number, error: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(error);
  }

  private disconnect(error: Error): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    for (const id of [...this.pending.keys()]) this.fail(id, error);
  }
}
