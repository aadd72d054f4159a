import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ExecaProcessRunner, type ProcessRunner } from '@virtplug/core';
import { FifoStock, spareFifoOwner } from './fifos.js';
import { currentOwner } from './owner.js';

/** Counts the processes the stock spawns, on a real runner (real mkfifo). */
class CountingRunner implements ProcessRunner {
  readonly calls: string[] = [];
  private readonly real = new ExecaProcessRunner();
  run(...args: Parameters<ProcessRunner['run']>) {
    this.calls.push(args[0]);
    return this.real.run(...args);
  }
}

describe('FifoStock', () => {
  let dir: string;
  let runner: CountingRunner;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vp-fifos-'));
    runner = new CountingRunner();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a FIFO directly when it has no spare', async () => {
    const stock = new FifoStock(join(dir, 'run'), runner);
    const p = await stock.take(join(dir, 'a.fifo'));
    expect(lstatSync(p).isFIFO()).toBe(true);
    expect(lstatSync(p).mode & 0o777).toBe(0o600);
    expect(runner.calls).toEqual(['mkfifo']);
  });

  it('hands out the spare by rename, without a process, and refills once', async () => {
    const stock = new FifoStock(join(dir, 'run'), runner);
    await stock.refill();
    await stock.refill(); // already stocked: no second spare
    const spares = readdirSync(join(dir, 'run'));
    expect(spares).toHaveLength(1);
    expect(spareFifoOwner(spares[0]!)).toEqual(currentOwner());
    expect(runner.calls).toEqual(['mkfifo']);
    const p = await stock.take(join(dir, 'b.fifo'));
    expect(lstatSync(p).isFIFO()).toBe(true);
    expect(readdirSync(join(dir, 'run'))).toEqual([]);
    expect(runner.calls).toEqual(['mkfifo']);
    // Spent: the next take makes its own.
    await stock.take(join(dir, 'c.fifo'));
    expect(runner.calls).toEqual(['mkfifo', 'mkfifo']);
  });

  it('falls back to mkfifo when the spare was removed behind its back', async () => {
    const stock = new FifoStock(join(dir, 'run'), runner);
    await stock.refill();
    for (const f of readdirSync(join(dir, 'run'))) rmSync(join(dir, 'run', f));
    const p = await stock.take(join(dir, 'd.fifo'));
    expect(lstatSync(p).isFIFO()).toBe(true);
    expect(runner.calls).toEqual(['mkfifo', 'mkfifo']);
  });

  it('recognises only spare names, with their owner', () => {
    expect(spareFifoOwner('spare-123-456-0b8e5a8e-6d3c-4c57-9a59-2f0a1c7d9e11.fifo')).toEqual({ pid: 123, start: '456' });
    expect(spareFifoOwner('0b8e5a8e-6d3c-4c57-9a59-2f0a1c7d9e11')).toBeNull();
    expect(spareFifoOwner('spare-x-456-0b8e5a8e-6d3c-4c57-9a59-2f0a1c7d9e11.fifo')).toBeNull();
    expect(spareFifoOwner('spare-1-2-../../etc.fifo')).toBeNull();
  });
});
