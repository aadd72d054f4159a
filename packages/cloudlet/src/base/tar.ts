import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InvalidArgumentError } from '@virtplug/core';

/**
 * A minimal POSIX ustar writer/reader for base packages: regular files only, flat names, so
 * `tar -tvf` and `tar -xf` work on them too. Sizes above 8 GiB use GNU base-256 size fields.
 */
const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  if (size < 8 ** 11) h.write(octal(size, 12), 124, 'ascii');
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128 + 0);
  }
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

async function writeAll(out: Writable, buf: Buffer): Promise<void> {
  if (!out.write(buf)) await once(out, 'drain');
}

export async function writeTar(dest: string, files: Array<{ name: string; path: string }>): Promise<void> {
  const out = createWriteStream(dest);
  const closed = once(out, 'close');
  try {
    for (const f of files) {
      const st = await stat(f.path);
      await writeAll(out, header(f.name, st.size, st.mtimeMs));
      for await (const chunk of createReadStream(f.path, { highWaterMark: 1 << 20 })) await writeAll(out, chunk as Buffer);
      const pad = (BLOCK - (st.size % BLOCK)) % BLOCK;
      if (pad) await writeAll(out, Buffer.alloc(pad));
    }
    await writeAll(out, Buffer.alloc(BLOCK * 2));
  } finally {
    out.end();
    await closed;
  }
}

export interface TarEntry {
  name: string;
  size: number;
  /** Offset of the member's data in the tar file. */
  offset: number;
}

function parseSize(h: Buffer): number {
  if (h[124]! & 0x80) return Number(h.readBigUInt64BE(128));
  return parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
}

/** Lists regular-file members; refuses links, directories, path names and bad checksums. */
export async function listTar(path: string): Promise<TarEntry[]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const out: TarEntry[] = [];
    const h = Buffer.alloc(BLOCK);
    for (let pos = 0; pos + BLOCK <= size; ) {
      await fh.read(h, 0, BLOCK, pos);
      if (h.every((b) => b === 0)) break;
      const stored = parseInt(h.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      if (stored !== sum) throw new InvalidArgumentError(`base package ${path}`, `bad tar header checksum at byte ${pos}`, 'an intact ustar archive');
      const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
      const type = String.fromCharCode(h[156]! || 0x30);
      const len = parseSize(h);
      if (type !== '0' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
        throw new InvalidArgumentError(`base package member`, name, 'a plain file name (no directories, links or paths)');
      }
      if (pos + BLOCK + len > size) throw new InvalidArgumentError(`base package member ${name}`, `${len} bytes`, 'a member inside the archive (it is truncated)');
      out.push({ name, size: len, offset: pos + BLOCK });
      pos += BLOCK + Math.ceil(len / BLOCK) * BLOCK;
    }
    return out;
  } finally {
    await fh.close();
  }
}

export async function extractMember(tarPath: string, e: TarEntry, dest: string): Promise<void> {
  const out = createWriteStream(dest);
  const closed = once(out, 'close');
  if (e.size > 0) {
    for await (const chunk of createReadStream(tarPath, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 })) await writeAll(out, chunk as Buffer);
  }
  out.end();
  await closed;
}
