import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildBase } from '../base/build.js';
import { BaseStore, type BaseRecord } from '../base/store.js';
import { QemuImg } from '../disk/qemu-img.js';
import { rebuildFromStream } from '../synthesis/pipeline.js';
import { WorkDirs } from '../util/workdir.js';
import { customize, makeBase, MACHINE } from '../../test/helpers/images.js';
import { createOverlay } from './create.js';
import { loadHashIndex } from './dedup.js';
import { CompressionPool } from './pool.js';
import { readOverlayHeader, verifyOverlayFile } from './verify.js';

let root: string;
let store: BaseStore;
let base: BaseRecord;
let pool: CompressionPool;
const qemu = new QemuImg();
let works: WorkDirs;

async function overlayOf(image: Parameters<typeof createOverlay>[1], name: string, compression: 'zstd' | 'xz' = 'zstd', xor = true) {
  const work = await works.create('t');
  const indexes = { memory: await loadHashIndex(base.memoryHashesPath), disk: await loadHashIndex(base.diskHashesPath) };
  const dest = join(root, name);
  const r = await createOverlay(base, image, dest, { pool, qemu, work, compression, level: compression === 'zstd' ? 3 : 1, blobSize: 256 << 10, xor, indexes });
  await work.remove();
  return r;
}

async function rebuild(path: string) {
  const work = await works.create('rb');
  const r = await rebuildFromStream({ stream: createReadStream(path), sourceBytes: statSync(path).size, store, pool, qemu, work, host: MACHINE });
  return { ...r, work };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vp-cl-unit-'));
  pool = new CompressionPool(2);
  works = new WorkDirs(join(root, 'tmp'));
  store = new BaseStore(join(root, 'cl'));
  const b = makeBase(join(root, 'src'));
  const staging = join(root, 'staging');
  await mkdir(staging);
  const manifest = await buildBase(b.image, 'unit-base', staging, qemu);
  base = await store.install(staging, manifest);
});

afterAll(async () => {
  await pool?.close();
  await rm(root, { recursive: true, force: true });
});

describe('base', () => {
  it('uses the SHA-256 of the guest-visible disk bytes as id', () => {
    const raw = join(root, 'check.raw');
    execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', join(root, 'src', 'base-disk.qcow2'), raw]);
    const id = execFileSync('sha256sum', [raw]).toString().split(' ')[0];
    expect(base.id).toBe(id);
    expect(statSync(base.memoryHashesPath).size).toBe((16 << 20) / 4096 * 32);
  });
});

describe('overlay round trip', () => {
  it.each([
    ['zstd + xor, single top layer', 'zstd', true, false],
    ['xz, no delta, two layers above the base', 'xz', false, true],
  ] as const)('%s: rebuilds RAM and disk byte for byte', async (_n, compression, xor, chained) => {
    const c = customize(join(root, `c-${compression}-${chained}`), { ram: readFileSync(join(root, 'src', 'base.ram')), baseDiskRaw: base.diskPath, diskBytes: base.manifest.disk.bytes }, { chained });
    const o = await overlayOf(c.image, `o-${compression}-${chained}.vpo`, compression, xor);
    const s = o.manifest.stats;
    expect(s.zero).toBeGreaterThan(0);
    expect(s.base_mem).toBeGreaterThan(0);
    expect(s.base_disk).toBeGreaterThan(0);
    expect(s.self).toBeGreaterThan(0);
    expect(s.raw).toBeGreaterThan(0);
    if (xor) expect(s.xor).toBeGreaterThan(0);
    else expect(s.xor).toBe(0);
    expect(o.manifest.blobs.length).toBeGreaterThan(1);
    expect(statSync(o.path).size).toBe(o.bytes);
    await verifyOverlayFile(o.path, pool);
    const info = await readOverlayHeader(o.path);
    expect(info.manifest.base_id).toBe(base.id);

    const r = await rebuild(o.path);
    expect(readFileSync(r.ramPath).equals(c.ram)).toBe(true);
    expect(readFileSync(r.statePath).equals(readFileSync(c.image.statePath))).toBe(true);
    const out = join(r.work.path, 'check.raw');
    execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', r.diskPath, out]);
    expect(readFileSync(out).equals(readFileSync(c.diskRaw))).toBe(true);
    const chain = await qemu.chain(r.diskPath);
    expect(chain.map((l) => l.filename)).toEqual([r.diskPath, base.diskPath]);
    await r.work.remove();
  });

  it('deduplicates memory pages that are also on the new disk (page cache), also at 1 KiB offsets', async () => {
    const c = customize(join(root, 'c-dedup'), { ram: readFileSync(join(root, 'src', 'base.ram')), baseDiskRaw: base.diskPath, diskBytes: base.manifest.disk.bytes });
    const o = await overlayOf(c.image, 'o-dedup.vpo');
    // Pages copied from the file data are stored once: the disk chunks refer back to memory.
    const { stats } = o.manifest;
    // 64 aligned file pages + 64 at +1 KiB + 1 straddling window + 63 repeats of one page.
    expect(stats.self).toBeGreaterThanOrEqual(64 + 64 + 1 + 63);
    expect(o.bytes).toBeLessThan((2 << 20) + 300 * 4096);
  });

  it('falls back to comparing every chunk when the base is not in the disk chain', async () => {
    const c = customize(join(root, 'c-flat'), { ram: readFileSync(join(root, 'src', 'base.ram')), baseDiskRaw: base.diskPath, diskBytes: base.manifest.disk.bytes });
    const flat = join(root, 'c-flat', 'flat.qcow2');
    execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', c.image.diskPath, flat]);
    const o = await overlayOf({ ...c.image, diskPath: flat }, 'o-flat.vpo');
    const r = await rebuild(o.path);
    const out = join(r.work.path, 'check.raw');
    execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', r.diskPath, out]);
    expect(readFileSync(out).equals(readFileSync(c.diskRaw))).toBe(true);
    await r.work.remove();
  });
});
