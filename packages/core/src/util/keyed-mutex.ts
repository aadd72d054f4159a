/**
 * One async lock per key (a VM's UUID, a medium's path, a network segment): drivers serialise their
 * own multi-step operations per object instead of racing themselves (VirtualBox refuses a second
 * session on a machine; a segment port's refcount must not interleave). Operations on different keys
 * run concurrently. Not re-entrant: callers take a key once per operation.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  isLocked(key: string): boolean {
    return this.tails.has(key);
  }
}
