import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationFailedError, type ProcessRunner } from '@virtplug/core';
import { currentOwner, type Owner } from './owner.js';

/** Makes the FIFO a clone's restore reads from (mode 0600); resolves to its path. */
export async function makeFifo(runner: ProcessRunner, path: string): Promise<string> {
  await rm(path, { force: true });
  const r = await runner.run('mkfifo', ['-m', '600', path], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new OperationFailedError(`mkfifo ${path} failed: ${r.stderr || r.spawnError?.message}`);
  return path;
}

const SPARE = /^spare-(\d+)-(\d+)-[0-9a-f-]{36}\.fifo$/;

/**
 * One spare restore FIFO per process. Node has no mkfifo call, and spawning the `mkfifo` process
 * blocks Node's thread while fork copies its page tables (~5 ms at 150 MB RSS, more in a bigger
 * orchestrator), right on a launch's critical path. So each launch ends by making the next one's
 * FIFO, and takes its own by rename. The first launch of a process, or one racing another in the
 * same process, makes its FIFO directly. Spares are named by their owner (pid and start time); gc
 * removes those of dead processes.
 */
export class FifoStock {
  private spare: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly runner: ProcessRunner,
  ) {}

  /** A fresh FIFO at `dest`: the spare, moved there, or a new one. */
  async take(dest: string): Promise<string> {
    const spare = this.spare;
    this.spare = undefined;
    if (spare) {
      try {
        await rename(spare, dest);
        return dest;
      } catch {
        // Removed meanwhile (by hand, or a gc that misjudged it): make one instead.
      }
    }
    return makeFifo(this.runner, dest);
  }

  /** Makes the spare if there is none. Failures only cost the next launch its head start. */
  async refill(): Promise<void> {
    if (this.spare) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const me = currentOwner();
    const path = join(this.dir, `spare-${me.pid}-${me.start}-${randomUUID()}.fifo`);
    try {
      this.spare = await makeFifo(this.runner, path);
    } catch {
      await rm(path, { force: true });
    }
  }
}

/** The owner a spare FIFO's name carries, or null if `name` is not a spare FIFO. */
export function spareFifoOwner(name: string): Owner | null {
  const m = SPARE.exec(name);
  return m ? { pid: Number(m[1]), start: m[2]! } : null;
}
