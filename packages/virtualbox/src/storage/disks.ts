import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, type Flavor, type ImageMeta } from '@virtplug/core';
import type { DriverContext } from '../context.js';
import { parseCreatedUuid } from '../vboxmanage/parse/created.js';

/** An image file must exist before VirtualBox is asked to open it: its own error names no image. */
export function checkImageFile(image: ImageMeta): string {
  try {
    const st = statSync(image.path);
    if (!st.isFile()) throw new Error('not a regular file');
    return realpathSync(image.path);
  } catch (e) {
    throw new NotFoundError('image file', image.path, `image ${JSON.stringify(image.name)} (${image.id}) must be a readable disk image file`, { cause: e });
  }
}

/** Closes (unregisters) a medium without deleting its file; a medium that is in use stays. */
export async function closeMediumQuietly(ctx: DriverContext, uuidOrPath: string, remove = false): Promise<void> {
  try {
    await ctx.vbox.run(['closemedium', 'disk', uuidOrPath, ...(remove ? ['--delete'] : [])], { target: uuidOrPath });
  } catch (e) {
    ctx.logger.debug({ medium: uuidOrPath, err: (e as Error).message }, 'closemedium failed; leaving the medium registered');
  }
}

/**
 * A full copy of `source` as a VDI at `target`: `convertfromraw` for raw images (VirtualBox cannot open
 * raw files as disks), `clonemedium` otherwise. A source that VirtualBox registered only for the copy
 * is closed again, so user images never stay in the media registry.
 */
export async function copyToVdi(ctx: DriverContext, source: string, format: ImageMeta['diskFormat'], target: string): Promise<string | undefined> {
  const timeoutMs = ctx.settings.mediumTimeoutMs;
  try {
    if (format === 'raw') {
      await ctx.vbox.run(['convertfromraw', source, target, '--format', 'VDI'], { timeoutMs, target });
      return undefined;
    }
    const registered = (await ctx.vbox.listHdds()).some((m) => m.location === source);
    const { stdout } = await ctx.vbox.run(['clonemedium', 'disk', source, target, '--format', 'VDI'], { timeoutMs, target });
    if (!registered) await closeMediumQuietly(ctx, source);
    return parseCreatedUuid(stdout);
  } catch (e) {
    // A half-written copy must not block the next try ("already exists").
    if (existsSync(target)) {
      await closeMediumQuietly(ctx, target, true);
      rmSync(target, { force: true });
    }
    throw e;
  }
}

/** The cached base of an image for copy-on-write roots: `_base/<hash of path, size, mtime>.vdi`. */
async function ensureBase(ctx: DriverContext, image: ImageMeta, source: string): Promise<string> {
  const st = statSync(source);
  const key = createHash('sha256').update(`${source}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 24);
  const base = join(ctx.paths.baseDir(), `${key}.vdi`);
  return ctx.locks.run(`base:${base}`, async () => {
    if (existsSync(base)) return base;
    mkdirSync(ctx.paths.baseDir(), { recursive: true });
    await copyToVdi(ctx, source, image.diskFormat, base);
    return base;
  });
}

/**
 * Creates a disk for an instance from an image: with `[DEFAULT] use_cow_images` a differencing VDI over
 * a cached base (`createmedium --diffparent`), else a full copy. Grows it to the flavor's root size.
 */
export async function createDiskFromImage(ctx: DriverContext, image: ImageMeta, target: string, flavor?: Flavor): Promise<void> {
  const source = checkImageFile(image);
  if (ctx.settings.useCowImages) {
    const base = await ensureBase(ctx, image, source);
    await ctx.vbox.run(['createmedium', 'disk', '--filename', target, '--diffparent', base, '--format', 'VDI'], { target });
  } else {
    await copyToVdi(ctx, source, image.diskFormat, target);
  }
  if (flavor && flavor.rootGb > 0) await growDisk(ctx, target, flavor.rootGb);
}

/** Grows a disk to `gb` GiB when smaller; VirtualBox cannot shrink, so a larger disk is left alone. */
export async function growDisk(ctx: DriverContext, path: string, gb: number): Promise<void> {
  const info = await ctx.vbox.mediumInfo(path);
  const wantMb = gb * 1024;
  if (info.capacityBytes !== undefined && info.capacityBytes >= wantMb * 1024 * 1024) return;
  await ctx.vbox.run(['modifymedium', 'disk', path, '--resize', String(wantMb)], { target: path, timeoutMs: ctx.settings.mediumTimeoutMs });
}
