import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@virtplug/core';
import { FIXED_HEADER, headerLength, parseHeader, type ParsedHeader } from '../overlay/container.js';
import type { BlobEntry, StateEntry } from '../overlay/manifest.js';
import { ExactReader } from './exact-reader.js';

export type Section = { kind: 'blob'; index: number; entry: BlobEntry; data: Buffer } | { kind: 'state'; entry: StateEntry; data: Buffer };

export interface ReadOverlayHandlers {
  /** Called once the manifest is verified, before any payload byte is read; throw to refuse early. */
  onHeader(header: ParsedHeader): Promise<void> | void;
  /** Called in order with each section, already checked against its SHA-256. */
  onSection(section: Section): Promise<void> | void;
  /** Size the source announced (Content-Length, file size), checked against the manifest up front. */
  sourceBytes?: number;
}

function hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Streams an overlay: header, then each section as soon as its bytes are in, verified. Refuses a
 * corrupt or truncated overlay (hash or length mismatch) and one larger than its manifest declares.
 */
export async function readOverlay(stream: AsyncIterable<Buffer | Uint8Array | string>, h: ReadOverlayHandlers): Promise<ParsedHeader> {
  const r = new ExactReader(stream);
  const fixed = await r.read(FIXED_HEADER, 'header');
  const rest = await r.read(headerLength(fixed) - FIXED_HEADER, 'manifest');
  const header = parseHeader(Buffer.concat([fixed, rest]));
  if (h.sourceBytes !== undefined && h.sourceBytes !== header.totalBytes) {
    throw new InvalidArgumentError(
      'overlay size',
      h.sourceBytes,
      `${header.totalBytes} bytes as its manifest declares (${h.sourceBytes > header.totalBytes ? 'it is larger than declared' : 'it is truncated'})`,
    );
  }
  await h.onHeader(header);
  const m = header.manifest;
  const payload = createHash('sha256');
  for (const [index, entry] of m.blobs.entries()) {
    const data = await r.read(entry.size, `blob ${index}`);
    payload.update(data);
    const got = hex(data);
    if (got !== entry.sha256) throw new InvalidArgumentError(`overlay blob ${index} SHA-256`, got, `${entry.sha256} from the manifest (the overlay is corrupt)`);
    await h.onSection({ kind: 'blob', index, entry, data });
  }
  const state = await r.read(m.state.size, 'device state');
  payload.update(state);
  if (hex(state) !== m.state.sha256) throw new InvalidArgumentError('overlay device-state SHA-256', hex(state), `${m.state.sha256} (the overlay is corrupt)`);
  const whole = payload.digest('hex');
  if (whole !== m.overlay_sha256) throw new InvalidArgumentError('overlay SHA-256', whole, `${m.overlay_sha256} (the overlay is corrupt)`);
  if (!(await r.atEnd())) {
    throw new InvalidArgumentError('overlay size', `more than ${header.totalBytes} bytes`, `${header.totalBytes} bytes as its manifest declares (it is larger than declared)`);
  }
  await h.onSection({ kind: 'state', entry: m.state, data: state });
  return header;
}
