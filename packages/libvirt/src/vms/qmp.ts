import { createConnection, type Socket } from 'node:net';
import { OperationFailedError, TimeoutError } from '@virtplug/core';

/**
 * A minimal QMP client for the extra monitor a shared-mode clone gets (libvirt owns the main one).
 * Commands are sent with ids and answered in order; events are ignored.
 */
export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly waiting = new Map<string, (msg: Record<string, unknown>) => void>();
  private greeted!: Promise<void>;

  private constructor(private readonly socket: Socket) {}

  static async connect(path: string, timeoutMs: number): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      const timer = setTimeout(() => (s.destroy(), reject(new TimeoutError(`connecting to QMP socket ${path}`, timeoutMs))), timeoutMs);
      s.once('connect', () => (clearTimeout(timer), resolve(s)));
      s.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const c = new QmpClient(socket);
    c.greeted = new Promise((resolve, reject) => {
      c.waiting.set('greeting', () => resolve());
      socket.once('close', () => reject(new OperationFailedError(`QMP socket ${path} closed (QEMU exited?)`)));
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => c.onData(d));
    socket.on('error', () => undefined);
    await withTimeout(c.greeted, timeoutMs, `QMP greeting on ${path}`);
    await c.execute('qmp_capabilities', undefined, timeoutMs);
    return c;
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    const id = `vp-${this.nextId++}`;
    const reply = new Promise<Record<string, unknown>>((resolve) => this.waiting.set(id, resolve));
    this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    const msg = await withTimeout(reply, timeoutMs, `QMP ${command}`).finally(() => this.waiting.delete(id));
    if (msg.error) {
      const e = msg.error as { class?: string; desc?: string };
      throw new OperationFailedError(`QMP ${command} failed: ${e.class ?? 'Error'}: ${e.desc ?? JSON.stringify(e)}`, { command });
    }
    return msg.return as T;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: string): void {
    this.buffer += d;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (msg.QMP) this.waiting.get('greeting')?.(msg);
      else if (typeof msg.id === 'string') this.waiting.get(msg.id)?.(msg);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)))]).finally(() => clearTimeout(timer));
}

/** The one capability shared mode depends on; QEMU ≥ 4.0 has it, as an experimental (x-) name. */
export const IGNORE_SHARED = 'x-ignore-shared';

/** The QMP command that switches it, for our own monitor or libvirt's (the transport's qemuMonitorCommand). */
export function ignoreSharedCommand(on: boolean): { execute: string; arguments: Record<string, unknown> } {
  return { execute: 'migrate-set-capabilities', arguments: { capabilities: [{ capability: IGNORE_SHARED, state: on }] } };
}

export async function setIgnoreShared(qmp: QmpClient, on: boolean): Promise<void> {
  const c = ignoreSharedCommand(on);
  await qmp.execute(c.execute, c.arguments);
}

export async function ignoreSharedState(qmp: QmpClient): Promise<boolean | undefined> {
  const caps = await qmp.execute<Array<{ capability: string; state: boolean }>>('query-migrate-capabilities');
  return caps.find((c) => c.capability === IGNORE_SHARED)?.state;
}
