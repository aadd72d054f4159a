import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { InvalidArgumentError } from '@virtplug/core';
import { safeId } from './image-cache.js';
import type { QemuImg } from './qemu-img.js';

/**
 * Exported snapshots: standalone qcow2 files (no backing chain), so they outlive the instance and its
 * cached base, and spawn can boot them like any other image.
 */
export class SnapshotStore {
  readonly dir: string;

  constructor(
    private readonly qemuImg: QemuImg,
    imagesPath: string,
  ) {
    this.dir = join(imagesPath, 'snapshots');
  }

  pathFor(imageId: string): string {
    return join(this.dir, `${safeId(imageId)}.qcow2`);
  }

  /** Flattens `srcDisk` and its backing chain into `dest`; `live` reads a disk that a running (paused) QEMU holds. */
  async export(srcDisk: string, dest: string, live: boolean): Promise<number> {
    if (!isAbsolute(dest) || dest.split('/').includes('..')) throw new InvalidArgumentError('snapshot path', dest, 'an absolute path without ..');
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await this.qemuImg.convert(srcDisk, tmp, { srcFormat: 'qcow2', dstFormat: 'qcow2', forceShare: live });
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return (await this.qemuImg.info(dest)).virtualSize;
  }
}
