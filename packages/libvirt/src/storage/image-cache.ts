import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { InvalidArgumentError, NotFoundError, type ImageMeta } from '@virtplug/core';
import type { QemuImg } from './qemu-img.js';

/** A cached, immutable copy of an image: the base every instance overlay of it points at. */
export interface CachedImage {
  disk: string;
  format: 'qcow2';
  virtualSize: number;
  kernel?: string;
  initrd?: string;
}

const FORMATS = new Set(['qcow2', 'raw', 'vdi', 'vmdk', 'vhd']);

/**
 * `<images_path>/_base/<id>-<hash>.qcow2`: each image is converted to qcow2 once and reused. The key
 * includes a hash of the source's path, size and mtime, so a changed source gets a new base instead of
 * corrupting overlays built on the old one. Kernel and initrd are cached the same way, so instances do
 * not depend on the caller's files staying put. Writes go to a temp name and are renamed into place,
 * so a crash never leaves a half-written base that looks valid.
 */
export class ImageCache {
  readonly baseDir: string;

  constructor(
    private readonly qemuImg: QemuImg,
    readonly imagesPath: string,
  ) {
    this.baseDir = join(imagesPath, '_base');
  }

  async ensure(image: ImageMeta): Promise<CachedImage> {
    if (!FORMATS.has(image.diskFormat)) throw new InvalidArgumentError('image disk format', image.diskFormat, `one of ${[...FORMATS].join(', ')}`);
    const disk = await this.cacheFile(image.path, image.id, '.qcow2', 'Image disk', (tmp) =>
      this.qemuImg.convert(image.path, tmp, { srcFormat: image.diskFormat, dstFormat: 'qcow2' }),
    );
    const info = await this.qemuImg.info(disk);
    const kernel = image.kernel ? await this.cacheFile(image.kernel, image.id, '.kernel', 'Image kernel', (tmp) => copyFile(image.kernel!, tmp)) : undefined;
    const initrd = image.initrd ? await this.cacheFile(image.initrd, image.id, '.initrd', 'Image initrd', (tmp) => copyFile(image.initrd!, tmp)) : undefined;
    return { disk, format: 'qcow2', virtualSize: info.virtualSize, ...(kernel ? { kernel } : {}), ...(initrd ? { initrd } : {}) };
  }

  private async cacheFile(src: string, id: string, ext: string, kind: string, produce: (tmp: string) => Promise<void>): Promise<string> {
    if (typeof src !== 'string' || !isAbsolute(src)) throw new InvalidArgumentError(`${kind.toLowerCase()} path`, src, 'an absolute path');
    const st = await stat(src).catch(() => null);
    if (!st?.isFile()) throw new NotFoundError(kind, src, 'ImageMeta paths must name existing files on this host');
    const key = createHash('sha256').update(`${src}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
    const target = join(this.baseDir, `${safeId(id)}-${key}${ext}`);
    if (await stat(target).then(() => true, () => false)) return target;
    await mkdir(this.baseDir, { recursive: true });
    const tmp = join(this.baseDir, `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await produce(tmp);
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return target;
  }
}

/** Image ids become file names: anything beyond [A-Za-z0-9._-] (and any `..`) is replaced. */
export function safeId(id: string): string {
  const cleaned = String(id).replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.\.+/g, '_').replace(/^[.-]+/, '').slice(0, 64);
  return cleaned || 'image';
}
