import { open } from 'node:fs/promises';
import { InvalidArgumentError } from '@virtplug/core';

/**
 * libvirt's QEMU save-image container (src/qemu/qemu_saveimage.h, virQEMUSaveHeader): a 92-byte header,
 * the domain XML (NUL-terminated), an optional cookie, zero padding up to `dataLen`, then QEMU's
 * migration stream, unchanged. `virsh restore --xml` refuses a new name, UUID or MAC (ABI check), but
 * a header that simply carries the clone's XML restores fine, which is how every clone is made.
 */
export const SAVE_MAGIC = 'LibvirtQemudSave';
/** What libvirt writes while a save is still running; an image with it is incomplete. */
export const PARTIAL_MAGIC = 'LibvirtQemudPart';
export const HEADER_BYTES = 92;
const UNUSED_WORDS = 14;
/** libvirt leaves 64 KiB of zeros after the XML so it can be edited in place later; so do we. */
export const DATA_PAD = 64 * 1024;
/** A save image whose XML area is larger than this is not one of ours (libvirt caps XML at 10 MiB). */
const MAX_DATA_LEN = 16 * 1024 * 1024;

export interface SaveImageHead {
  version: number;
  wasRunning: boolean;
  /** 0 = raw stream; others name a compressor libvirt pipes the stream through on restore. */
  format: number;
  xml: string;
  cookie: string | null;
  /** Byte offset of the QEMU stream in the file. */
  streamOffset: number;
}

/** Parses the head of a save image; `buf` must hold at least the header plus `dataLen` bytes. */
export function parseSaveImageHead(buf: Buffer, what = 'save image'): SaveImageHead {
  if (buf.length < HEADER_BYTES) throw new InvalidArgumentError(what, `${buf.length} bytes`, `at least ${HEADER_BYTES} bytes`);
  const magic = buf.toString('latin1', 0, 16);
  if (magic === PARTIAL_MAGIC) {
    throw new InvalidArgumentError(what, magic, `a complete libvirt save image (${SAVE_MAGIC}); this one was left by an interrupted save`);
  }
  if (magic !== SAVE_MAGIC) throw new InvalidArgumentError(`${what} magic`, magic, `${SAVE_MAGIC} (a libvirt QEMU save image)`);
  const version = buf.readUInt32LE(16);
  const dataLen = buf.readUInt32LE(20);
  const wasRunning = buf.readUInt32LE(24) !== 0;
  const format = buf.readUInt32LE(28);
  const cookieOffset = buf.readUInt32LE(32);
  if (version !== 2) throw new InvalidArgumentError(`${what} version`, version, 'version 2 (libvirt >= 0.9)');
  if (dataLen > MAX_DATA_LEN || buf.length < HEADER_BYTES + dataLen) {
    throw new InvalidArgumentError(`${what} data length`, dataLen, `at most ${MAX_DATA_LEN} bytes, all present`);
  }
  const data = buf.subarray(HEADER_BYTES, HEADER_BYTES + dataLen);
  const xmlEnd = cookieOffset > 0 ? cookieOffset - 1 : data.indexOf(0);
  if (xmlEnd <= 0 || data[xmlEnd] !== 0) throw new InvalidArgumentError(`${what} XML`, `cookieOffset ${cookieOffset}`, 'a NUL-terminated domain XML');
  const xml = data.toString('utf8', 0, xmlEnd);
  let cookie: string | null = null;
  if (cookieOffset > 0) {
    const end = data.indexOf(0, cookieOffset);
    cookie = data.toString('utf8', cookieOffset, end < 0 ? dataLen : end);
  }
  return { version, wasRunning, format, xml, cookie, streamOffset: HEADER_BYTES + dataLen };
}

export async function readSaveImageHead(path: string): Promise<SaveImageHead> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    await fh.read(head, 0, HEADER_BYTES, 0);
    const dataLen = head.readUInt32LE(20);
    const full = Buffer.alloc(HEADER_BYTES + Math.min(dataLen, MAX_DATA_LEN + 1));
    const { bytesRead } = await fh.read(full, 0, full.length, 0);
    return parseSaveImageHead(full.subarray(0, bytesRead), path);
  } finally {
    await fh.close();
  }
}

/** Builds a header + XML + cookie + padding block; the caller appends the original stream after it. */
export function buildSaveImageHead(head: Pick<SaveImageHead, 'xml' | 'cookie' | 'wasRunning' | 'format'>): Buffer {
  const xml = Buffer.from(head.xml + '\0', 'utf8');
  const cookie = head.cookie !== null ? Buffer.from(head.cookie + '\0', 'utf8') : Buffer.alloc(0);
  const used = xml.length + cookie.length;
  const dataLen = used + DATA_PAD;
  const out = Buffer.alloc(HEADER_BYTES + dataLen);
  out.write(SAVE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(2, 16);
  out.writeUInt32LE(dataLen, 20);
  out.writeUInt32LE(head.wasRunning ? 1 : 0, 24);
  out.writeUInt32LE(head.format, 28);
  out.writeUInt32LE(head.cookie !== null ? xml.length : 0, 32);
  for (let w = 0; w < UNUSED_WORDS; w++) out.writeUInt32LE(0, 36 + 4 * w);
  xml.copy(out, HEADER_BYTES);
  cookie.copy(out, HEADER_BYTES + xml.length);
  return out;
}
