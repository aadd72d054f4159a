import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineSignature, MemoryImage } from '@virtplug/core';

export const MACHINE: MachineSignature = { machineType: 'pc-i440fx-7.2', qemuVersion: '7.2.0', cpuModel: 'qemu64', virtType: 'qemu' };
const PAGE = 4096;

/** Deterministic pseudo-random bytes (AES-CTR keystream of a seed), so failures reproduce. */
export function prng(seed: number, n: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

function text(seed: number, n: number): Buffer {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `line ${i} of ${seed}: the quick brown fox jumps over the lazy dog ${(i * 7919 + seed) % 100003}\n`;
  return Buffer.from(s.slice(0, n));
}

/** A slice of a real ELF binary: what code pages in guest RAM look like. */
function code(offset: number, n: number): Buffer {
  const bin = readFileSync('/usr/bin/qemu-img');
  const start = offset % Math.max(1, bin.length - n);
  return Buffer.from(bin.subarray(start, start + n));
}

export interface BaseFiles {
  dir: string;
  image: MemoryImage;
  ram: Buffer;
}

/**
 * A base "captured" VM from real bytes: RAM with zero, code, text and random pages; a real ext4
 * disk image in qcow2 (mkfs.ext4 + qemu-img) with some files' worth of data.
 */
export function makeBase(dir: string, ramMiB = 16, diskMiB = 16): BaseFiles {
  mkdirSync(dir, { recursive: true });
  const ram = Buffer.alloc(ramMiB << 20);
  const pages = ram.length / PAGE;
  for (let p = 0; p < pages; p++) {
    const kind = p % 8;
    const off = p * PAGE;
    if (kind === 1 || kind === 2) code(p * 977, PAGE).copy(ram, off);
    else if (kind === 3) text(p, PAGE).copy(ram, off);
    else if (kind === 4 && p % 16 === 4) prng(p, PAGE).copy(ram, off);
  }
  writeFileSync(join(dir, 'base.ram'), ram);
  writeFileSync(join(dir, 'base.state'), Buffer.concat([Buffer.from('QEVM'), prng(7, 50_000), Buffer.alloc(30_000)]));
  const raw = join(dir, 'base-disk.raw');
  execFileSync('truncate', ['-s', `${diskMiB}M`, raw]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'vpdata', raw]);
  const fd = openSync(raw, 'r+');
  // Some file-like content in the data area, so base-disk dedup has something to find.
  writeSync(fd, text(99, 256 << 10), 0, 256 << 10, 4 << 20);
  writeSync(fd, code(12345, 512 << 10), 0, 512 << 10, 6 << 20);
  closeSync(fd);
  const qcow = join(dir, 'base-disk.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
  return {
    dir,
    ram,
    image: {
      ramPath: join(dir, 'base.ram'),
      ramBytes: ram.length,
      statePath: join(dir, 'base.state'),
      diskPath: qcow,
      diskFormat: 'qcow2',
      machine: MACHINE,
      descriptor: "<domain type='qemu'><name>vp-cl-test</name><memory unit='KiB'>16384</memory><vcpu>1</vcpu></domain>",
    },
  };
}

function qemuWrite(qcow: string, offset: number, data: Buffer, tmp: string): void {
  writeFileSync(tmp, data);
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -q -s ${tmp} ${offset} ${data.length}`, qcow]);
}

export interface Customized {
  image: MemoryImage;
  ram: Buffer;
  /** Raw guest-visible disk after customization, for byte comparison. */
  diskRaw: string;
}

/**
 * A customized VM "resumed from" a stored base: a qcow2 on top of the base's disk.raw with new file
 * data, zeroed and partly changed chunks; RAM with new random pages, pages copied from the new
 * disk data (page cache), base pages moved elsewhere, zeroed pages and partly changed pages.
 */
export function customize(dir: string, base: { ram: Buffer; baseDiskRaw: string; diskBytes: number }, opts: { chained?: boolean } = {}): Customized {
  mkdirSync(dir, { recursive: true });
  const top = join(dir, 'custom.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base.baseDiskRaw, top]);
  const tmp = join(dir, 'pattern.bin');
  const fileData = prng(4242, 2 << 20);
  qemuWrite(top, 8 << 20, fileData, tmp);
  qemuWrite(top, 11 << 20, text(5, 300 << 10), tmp);
  qemuWrite(top, (4 << 20) + 8192, Buffer.alloc(8192), tmp); // zeroes over base text
  const partial = readFileSync(base.baseDiskRaw).subarray(6 << 20, (6 << 20) + PAGE);
  const p2 = Buffer.from(partial);
  p2.write('changed!', 100);
  qemuWrite(top, 6 << 20, p2, tmp);
  let diskImage = top;
  if (opts.chained) {
    const top2 = join(dir, 'custom2.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', top, top2]);
    qemuWrite(top2, 12 << 20, prng(77, 64 << 10), tmp);
    diskImage = top2;
  }
  const ram = Buffer.from(base.ram);
  const pages = ram.length / PAGE;
  const baseDisk = readFileSync(base.baseDiskRaw);
  for (let p = 0; p < pages; p++) {
    const off = p * PAGE;
    if (p % 64 === 5) prng(100 + p, PAGE).copy(ram, off); // new anonymous data
    else if (p % 64 === 9) fileData.copy(ram, off, (p % 512) * PAGE, (p % 512) * PAGE + PAGE); // page cache of the new file
    else if (p % 64 === 13) base.ram.copy(ram, off, (p - 12) * PAGE, (p - 11) * PAGE); // a base code page, moved
    else if (p % 64 === 17) ram.fill(0, off, off + PAGE);
    else if (p % 64 === 21) ram.writeUInt32LE(p, off + 64); // small change to a base page
    else if (p % 64 === 25) prng(1, PAGE).copy(ram, off); // the same new page many times
    else if (p % 64 === 29) baseDisk.copy(ram, off, (6 << 20) + (p % 100) * PAGE, (6 << 20) + (p % 100) * PAGE + PAGE); // a base file, read
    else if (p % 64 === 33) fileData.copy(ram, off, (p % 256) * PAGE + 1024, (p % 256) * PAGE + 1024 + PAGE); // page cache of a file on 1 KiB fs blocks
  }
  writeFileSync(join(dir, 'custom.state'), Buffer.concat([Buffer.from('QEVM'), prng(8, 60_000)]));
  const diskRaw = join(dir, 'custom-disk.raw');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', diskImage, diskRaw]);
  // A window straddling the end of the written range and the unchanged disk after it.
  readFileSync(diskRaw).copy(ram, 37 * PAGE, (10 << 20) - 1024, (10 << 20) + 3072);
  writeFileSync(join(dir, 'custom.ram'), ram);
  return {
    ram,
    diskRaw,
    image: {
      ramPath: join(dir, 'custom.ram'),
      ramBytes: ram.length,
      statePath: join(dir, 'custom.state'),
      diskPath: diskImage,
      diskFormat: 'qcow2',
      machine: MACHINE,
      descriptor: "<domain type='qemu'><name>vp-cl-custom</name><memory unit='KiB'>16384</memory><vcpu>1</vcpu></domain>",
    },
  };
}
