import { decode, encode } from '@msgpack/msgpack';
import { InvalidArgumentError } from '@virtplug/core';
import { sha256 } from '../util/hash.js';
import { validateManifest, type OverlayManifest } from './manifest.js';

/**
 * The overlay file (docs/cloudlet-format.md §1): magic, u32 version, u32 manifest length, msgpack
 * manifest, SHA-256 of the manifest, then the payload (blobs, then the device-state section).
 * The manifest comes first so a reader learns the base id and every blob's hash before the payload.
 */
export const MAGIC = Buffer.from('VPOVRLAY', 'ascii');
export const CONTAINER_VERSION = 1;
export const FIXED_HEADER = 16;
export const MAX_MANIFEST = 64 << 20;

export function encodeHeader(manifest: OverlayManifest): Buffer {
  const body = Buffer.from(encode(manifest));
  const head = Buffer.alloc(FIXED_HEADER);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(CONTAINER_VERSION, 8);
  head.writeUInt32BE(body.length, 12);
  return Buffer.concat([head, body, sha256(body)]);
}

/** How many header bytes follow the fixed part, or throws if the fixed part is not an overlay. */
export function headerLength(fixed: Buffer): number {
  if (fixed.length < FIXED_HEADER || !fixed.subarray(0, 8).equals(MAGIC)) {
    throw new InvalidArgumentError('overlay file', fixed.subarray(0, 8).toString('latin1'), `a file starting with ${MAGIC.toString()} (a virtplug cloudlet overlay)`);
  }
  const version = fixed.readUInt32BE(8);
  if (version !== CONTAINER_VERSION) throw new InvalidArgumentError('overlay container version', version, `${CONTAINER_VERSION}`);
  const len = fixed.readUInt32BE(12);
  if (len === 0 || len > MAX_MANIFEST) throw new InvalidArgumentError('overlay manifest length', len, `1..${MAX_MANIFEST}`);
  return FIXED_HEADER + len + 32;
}

export interface ParsedHeader {
  manifest: OverlayManifest;
  /** Where the payload starts in the file. */
  payloadOffset: number;
  /** Header + payload: the exact size the file must have. */
  totalBytes: number;
}

export function parseHeader(header: Buffer): ParsedHeader {
  const total = headerLength(header);
  if (header.length < total) throw new InvalidArgumentError('overlay header', `${header.length} bytes`, `${total} bytes (the file is truncated)`);
  const len = header.readUInt32BE(12);
  const body = header.subarray(FIXED_HEADER, FIXED_HEADER + len);
  const digest = header.subarray(FIXED_HEADER + len, FIXED_HEADER + len + 32);
  if (!sha256(body).equals(digest)) {
    throw new InvalidArgumentError('overlay manifest checksum', digest.toString('hex'), `${sha256(body).toString('hex')} (the manifest is corrupt)`);
  }
  let raw: unknown;
  try {
    raw = decode(body);
  } catch (e) {
    throw new InvalidArgumentError('overlay manifest', (e as Error).message, 'valid msgpack', { cause: e });
  }
  const manifest = validateManifest(raw);
  return { manifest, payloadOffset: total, totalBytes: total + manifest.payload_bytes };
}
