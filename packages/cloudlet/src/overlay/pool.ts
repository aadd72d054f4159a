import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { InvalidArgumentError } from '@virtplug/core';
import type { Compression } from './manifest.js';
import { WORKER_SOURCE } from './worker-source.js';

interface Task {
  id: number;
  msg: Record<string, unknown>;
  transfer: ArrayBuffer[];
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/** Where the worker resolves zstd-napi and lzma-native from: this package's own dependencies. */
function packageAnchor(): string {
  const req = createRequire(import.meta.url);
  return req.resolve('zstd-napi');
}

/**
 * A fixed set of compression workers (node:worker_threads). Tasks run in submission order per
 * worker; callers keep order by awaiting the promises in the order they submitted them.
 */
export class CompressionPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly running = new Map<Worker, Task>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new InvalidArgumentError('worker count', size, 'an integer 1..64');
    const from = packageAnchor();
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { from } });
      w.on('message', (m: { id: number; ok: boolean; data?: Uint8Array; error?: string }) => this.onMessage(w, m));
      w.on('error', (e) => this.onCrash(w, e));
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  compress(algo: Compression, level: number, data: Buffer): Promise<Buffer> {
    return this.submit({ op: 'compress', algo, level, data });
  }

  /** Rejects when the output would differ from `rawSize` bytes (oversize or short) or is corrupt. */
  decompress(algo: Compression, data: Buffer, rawSize: number): Promise<Buffer> {
    return this.submit({ op: 'decompress', algo, data, rawSize });
  }

  get pending(): number {
    return this.queue.length + this.running.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('compression pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private submit(msg: Record<string, unknown>): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('compression pool closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, msg, transfer: [], resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const t = this.queue.shift()!;
      this.running.set(w, t);
      w.ref();
      w.postMessage({ id: t.id, ...t.msg });
    }
  }

  private onMessage(w: Worker, m: { id: number; ok: boolean; data?: Uint8Array; error?: string }): void {
    const t = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    w.unref();
    if (t && t.id === m.id) {
      if (m.ok) t.resolve(Buffer.from(m.data!.buffer, m.data!.byteOffset, m.data!.byteLength));
      else t.reject(new Error(m.error ?? 'worker failed'));
    }
    this.pump();
  }

  private onCrash(w: Worker, e: Error): void {
    const t = this.running.get(w);
    this.running.delete(w);
    t?.reject(e);
  }
}
