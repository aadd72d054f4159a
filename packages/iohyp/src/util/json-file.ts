import { readFileSync } from 'node:fs';
import { OperationFailedError, writeJsonAtomic } from '@virtplug/core';

/**
 * A JSON document on disk, written atomically (temp file, fsync, rename): a crash leaves either the old
 * or the new version, never half of one. Records are the only memory of what was built, so losing one
 * would orphan real exports.
 */
export class JsonFile<T> {
  constructor(
    readonly path: string,
    private readonly empty: () => T,
    private readonly mode = 0o600,
  ) {}

  read(): T {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.empty();
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new OperationFailedError(
        `State file ${this.path} is not valid JSON (${(e as Error).message}); restore it from a backup or move it aside.`,
        { path: this.path },
        { cause: e },
      );
    }
  }

  write(value: T): void {
    writeJsonAtomic(this.path, value, { mode: this.mode });
  }

  update(fn: (value: T) => T | void): T {
    const current = this.read();
    const next = (fn(current) ?? current) as T;
    this.write(next);
    return next;
  }
}
