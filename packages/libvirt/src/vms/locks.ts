import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LockedError } from '@virtplug/core';
import { currentOwner, ownerAlive, type Owner } from './owner.js';

export interface LockInfo extends Owner {
  op: string;
  at: string;
}

/**
 * A lock file per instance or live image, shared by every process on the host (library, CLI, tests).
 * A lock whose owner died (SIGKILL) is stale and taken over; nothing else ever breaks a lock.
 */
export class FileLock {
  private constructor(
    readonly path: string,
    readonly info: LockInfo,
  ) {}

  static read(path: string): LockInfo | null {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }

  /** The live holder of `path`, if any. */
  static holder(path: string): LockInfo | null {
    const info = FileLock.read(path);
    return info && ownerAlive(info) ? info : null;
  }

  static async acquire(path: string, op: string, what: string, timeoutMs = 30_000): Promise<FileLock> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const info: LockInfo = { ...currentOwner(), op, at: new Date().toISOString() };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        return new FileLock(path, info);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = FileLock.read(path);
      if (!holder || !ownerAlive(holder)) {
        // Stale (its owner died) or half-written by a dying owner: remove it and try again. Two
        // processes taking over the same stale lock at the same instant could both win; locks guard
        // multi-second VMS operations started by people and tests, where that window does not occur.
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockedError(`${what} is busy: ${holder.op} by process ${holder.pid} since ${holder.at}; retry when it is done.`, { op: holder.op, pid: holder.pid });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  release(): void {
    const cur = FileLock.read(this.path);
    if (cur && cur.pid === this.info.pid && cur.start === this.info.start) rmSync(this.path, { force: true });
  }
}
