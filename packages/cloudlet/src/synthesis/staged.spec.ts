import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MemoryImage } from '@virtplug/core';
import { createOverlay } from '../overlay/create.js';
import { loadHashIndex } from '../overlay/dedup.js';
import { prng } from '../../test/helpers/images.js';
import { setupFixture, type Fixture } from '../../test/helpers/fixture.js';
import { MACHINE } from '../../test/helpers/images.js';
import { StagedRebuild } from './pipeline.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await setupFixture('staged');
});
afterAll(() => fx?.close());

/** A later capture of the customized VM: more pages and chunks changed, zeroed, un-zeroed. */
function laterCapture(): { image: MemoryImage; ram: Buffer; diskRaw: string } {
  const dir = join(fx.root, 'custom');
  const top = fx.custom.image.diskPath;
  const later = join(dir, 'later.qcow2');
  execFileSync('cp', [top, later]);
  const tmp = join(dir, 'p2.bin');
  const write = (off: number, data: Buffer) => {
    writeFileSync(tmp, data);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -q -s ${tmp} ${off} ${data.length}`, later]);
  };
  write(9 << 20, Buffer.alloc(64 << 10)); // data of round one, zeroed now
  write((4 << 20) + 8192, prng(31, 8192)); // zeroed in round one, data now
  write(13 << 20, prng(32, 128 << 10)); // new data
  const ram = Buffer.from(fx.custom.ram);
  for (let p = 3; p < ram.length / 4096; p += 97) prng(1000 + p, 4096).copy(ram, p * 4096);
  ram.fill(0, 5 * 4096, 9 * 4096);
  const ramPath = join(dir, 'later.ram');
  writeFileSync(ramPath, ram);
  const diskRaw = join(dir, 'later-disk.raw');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', later, diskRaw]);
  return { image: { ...fx.custom.image, ramPath, diskPath: later }, ram, diskRaw };
}

describe('staged rebuild (handoff pre-copy)', () => {
  it('applies a residue against an earlier capture on top of that capture, byte for byte', async () => {
    const later = laterCapture();
    const indexes = { memory: await loadHashIndex(fx.base.memoryHashesPath), disk: await loadHashIndex(fx.base.diskHashesPath) };
    const work = await fx.works.create('second');
    const second = await createOverlay(fx.base, later.image, join(fx.root, 'second.vpo'), {
      pool: fx.pool,
      qemu: fx.qemu,
      work,
      compression: 'zstd',
      level: 1,
      blobSize: 256 << 10,
      xor: true,
      indexes,
      kind: 'residue',
      reference: { ramPath: fx.custom.image.ramPath, ramBytes: fx.custom.image.ramBytes, diskRaw: fx.custom.diskRaw, diskBytes: fx.base.manifest.disk.bytes, parentSha256: fx.overlay.manifest.overlay_sha256 },
    });
    await work.remove();
    expect(second.manifest.parent_sha256).toBe(fx.overlay.manifest.overlay_sha256);
    expect(second.bytes).toBeLessThan(fx.overlay.bytes / 3);

    const rw = await fx.works.create('staged');
    const staged = new StagedRebuild({ store: fx.store, pool: fx.pool, qemu: fx.qemu, work: rw, host: MACHINE });
    await staged.apply(createReadStream(fx.overlay.path), { sourceBytes: statSync(fx.overlay.path).size, final: false });
    // A follow-up must name the overlay applied before it.
    await expect(staged.apply(createReadStream(fx.overlay.path), { final: false })).rejects.toThrow(/follow-up overlay parent/);
    await staged.apply(createReadStream(second.path), { sourceBytes: statSync(second.path).size, final: true });
    const built = await staged.finish();
    expect(readFileSync(built.ramPath).equals(later.ram)).toBe(true);
    const out = join(rw.path, 'check.raw');
    execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', built.diskPath, out]);
    expect(readFileSync(out).equals(readFileSync(later.diskRaw))).toBe(true);
    await rw.remove();
  });

  it('refuses a follow-up residue as the first overlay', async () => {
    const rw = await fx.works.create('staged-bad');
    const staged = new StagedRebuild({ store: fx.store, pool: fx.pool, qemu: fx.qemu, work: rw, host: MACHINE });
    const p = join(fx.root, 'second.vpo');
    await expect(staged.apply(createReadStream(p), { final: true })).rejects.toThrow(/no parent/);
    await staged.abort();
    await rw.remove();
  });
});
