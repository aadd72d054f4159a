import { InvalidArgumentError } from '@virtplug/core';

/** Pulls exact byte counts out of a chunked async stream (an HTTP body, a file stream, a socket). */
export class ExactReader {
  private readonly it: AsyncIterator<Buffer>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(stream: AsyncIterable<Buffer | Uint8Array | string>) {
    const src = stream[Symbol.asyncIterator]();
    this.it = {
      next: async () => {
        const r = await src.next();
        if (r.done) return r;
        const v = r.value;
        return { done: false, value: Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array) };
      },
    };
  }

  /** Exactly n bytes, or throws naming `what` when the stream ends first (a truncated overlay). */
  async read(n: number, what: string): Promise<Buffer> {
    while (this.pendingBytes < n && (await this.pull()));
    if (this.pendingBytes < n) {
      throw new InvalidArgumentError(`overlay (${what})`, `${this.position + this.pendingBytes} bytes`, `at least ${this.position + n} bytes: it is truncated`);
    }
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    this.position += n;
    return out;
  }

  /** True when nothing follows; reads ahead one chunk to find out. */
  async atEnd(): Promise<boolean> {
    while (this.pendingBytes === 0 && (await this.pull()));
    return this.pendingBytes === 0;
  }

  /** Takes the next chunk from the stream into `pending`; false once the stream has ended. */
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    if (r.value.length) {
      this.pending.push(r.value);
      this.pendingBytes += r.value.length;
    }
    return true;
  }
}
