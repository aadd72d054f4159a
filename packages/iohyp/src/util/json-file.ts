import { mkdirSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OperationFailedError } from '@virtplug/core';

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
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: this.mode });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  update(fn: (value: T) => T | void): T {
    const current = this.read();
    const next = (fn(current) ?? current) as T;
    this.write(next);
    return next;
  }
}
