import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type ImageMeta } from '@virtplug/core';

export const DEFAULT_GUEST_IMAGE_DIR = '/var/lib/virtplug/guest-image';

/**
 * The project's test guest (tools/guest-image) as an image spawn can boot: its data disk plus direct
 * kernel boot. Fails with the build command when the image has not been built.
 */
export function projectGuestImage(dir = process.env.VIRTPLUG_GUEST_IMAGE_DIR ?? DEFAULT_GUEST_IMAGE_DIR): ImageMeta {
  const missing = ['initrd.img', 'data.qcow2', 'manifest.json'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new InvalidArgumentError('guest image directory', dir, `a built guest image (missing ${missing.join(', ')}); build it with: bash tools/guest-image/build.sh`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cmdline?: string; inputsHash?: string; kernel?: string };
  // manifest.kernel names the file to boot: the uncompressed vmlinux boots ~2.5 s faster under TCG.
  const kernel = manifest.kernel && existsSync(join(dir, manifest.kernel)) ? manifest.kernel : 'vmlinuz';
  return {
    id: `guest-${(manifest.inputsHash ?? 'local').slice(0, 12)}`,
    name: 'virtplug test guest',
    diskFormat: 'qcow2',
    path: join(dir, 'data.qcow2'),
    kernel: join(dir, kernel),
    initrd: join(dir, 'initrd.img'),
    cmdline: manifest.cmdline ?? 'console=ttyS0 quiet',
  };
}
