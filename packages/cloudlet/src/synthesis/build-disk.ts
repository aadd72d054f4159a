import type { QemuImg } from '../disk/qemu-img.js';

/**
 * Turns the sparse disk delta into a qcow2 on top of the base disk, without FUSE or NBD:
 * `qemu-img convert -S 4k` into 4 KiB clusters allocates exactly the written (never all-zero)
 * chunks; `rebase -u` then points the image at the base; chunks the overlay zeroed become qcow2
 * zero clusters (`qemu-io write -z`), so they do not show the base through.
 */
export async function buildDisk(qemu: QemuImg, delta: string, zeroRanges: ReadonlyArray<readonly [number, number]>, baseDisk: string, dest: string): Promise<void> {
  await qemu.convert(delta, 'raw', dest, 'qcow2', ['-S', '4k', '-o', 'cluster_size=4096']);
  await qemu.rebaseUnsafe(dest, baseDisk, 'raw');
  if (zeroRanges.length) await qemu.writeZeroes(dest, zeroRanges);
}
