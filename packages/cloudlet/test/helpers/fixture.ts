import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBase } from '../../src/base/build.js';
import { BaseStore, type BaseRecord } from '../../src/base/store.js';
import { QemuImg } from '../../src/disk/qemu-img.js';
import { createOverlay, type CreatedOverlay } from '../../src/overlay/create.js';
import { loadHashIndex } from '../../src/overlay/dedup.js';
import { CompressionPool } from '../../src/overlay/pool.js';
import { rebuildFromStream } from '../../src/synthesis/pipeline.js';
import { WorkDirs } from '../../src/util/workdir.js';
import { customize, makeBase, MACHINE, type Customized } from './images.js';

export interface Fixture {
  root: string;
  store: BaseStore;
  base: BaseRecord;
  pool: CompressionPool;
  works: WorkDirs;
  qemu: QemuImg;
  custom: Customized;
  overlay: CreatedOverlay;
  rebuildFile(path: string, opts?: { expectBase?: string; sourceBytes?: number | null }): ReturnType<typeof rebuildFromStream>;
  close(): Promise<void>;
}

/** A stored base, a customized image on it, and its overlay: real files made with qemu-img. */
export async function setupFixture(prefix: string): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), `vp-cl-${prefix}-`));
  const pool = new CompressionPool(2);
  const works = new WorkDirs(join(root, 'cl', 'tmp'));
  const store = new BaseStore(join(root, 'cl'));
  const qemu = new QemuImg();
  const b = makeBase(join(root, 'src'));
  const staging = join(root, 'staging');
  await mkdir(staging);
  const base = await store.install(staging, await buildBase(b.image, 'fixture-base', staging, qemu));
  const custom = customize(join(root, 'custom'), { ram: readFileSync(b.image.ramPath), baseDiskRaw: base.diskPath, diskBytes: base.manifest.disk.bytes });
  const work = await works.create('fixture');
  const indexes = { memory: await loadHashIndex(base.memoryHashesPath), disk: await loadHashIndex(base.diskHashesPath) };
  const overlay = await createOverlay(base, custom.image, join(root, 'overlay.vpo'), { pool, qemu, work, compression: 'zstd', level: 3, blobSize: 256 << 10, xor: true, indexes });
  await work.remove();
  return {
    root,
    store,
    base,
    pool,
    works,
    qemu,
    custom,
    overlay,
    async rebuildFile(path, opts = {}) {
      const work = await works.create('rebuild');
      const sourceBytes = opts.sourceBytes === null ? undefined : (opts.sourceBytes ?? statSync(path).size);
      try {
        return await rebuildFromStream({ stream: createReadStream(path), sourceBytes, store, pool, qemu, work, host: MACHINE, expectBase: opts.expectBase });
      } catch (e) {
        await work.remove();
        throw e;
      }
    },
    async close() {
      await pool.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
