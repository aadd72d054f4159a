import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decode } from '@msgpack/msgpack';
import { encodeHeader, FIXED_HEADER } from '../overlay/container.js';
import type { OverlayManifest } from '../overlay/manifest.js';
import { setupFixture, type Fixture } from '../../test/helpers/fixture.js';

let fx: Fixture;
let bytes: Buffer;
let payloadOffset: number;
let manifest: OverlayManifest;

beforeAll(async () => {
  fx = await setupFixture('refuse');
  bytes = readFileSync(fx.overlay.path);
  const len = bytes.readUInt32BE(12);
  payloadOffset = FIXED_HEADER + len + 32;
  manifest = decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + len)) as OverlayManifest;
});
afterAll(() => fx?.close());

function variant(name: string, data: Buffer): string {
  const p = join(fx.root, name);
  writeFileSync(p, data);
  return p;
}

/** Nothing of a refused rebuild may remain in the work area. */
function workLeft(): string[] {
  return readdirSync(fx.works.root).filter((n) => n.startsWith('rebuild-'));
}

describe('refused overlays', () => {
  it('accepts the untouched overlay', async () => {
    const r = await fx.rebuildFile(fx.overlay.path);
    expect(readFileSync(r.ramPath).equals(fx.custom.ram)).toBe(true);
  });

  it('refuses a flipped byte in a blob (hash mismatch) and leaves nothing behind', async () => {
    const before = workLeft().length;
    const b = Buffer.from(bytes);
    b[payloadOffset + manifest.blobs[1]!.offset + 10]! ^= 0x01;
    await expect(fx.rebuildFile(variant('flip-blob.vpo', b))).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/blob 1 SHA-256.*corrupt/) });
    expect(workLeft().length).toBe(before);
  });

  it('refuses a flipped byte in the manifest', async () => {
    const b = Buffer.from(bytes);
    b[FIXED_HEADER + 40]! ^= 0x20;
    await expect(fx.rebuildFile(variant('flip-manifest.vpo', b))).rejects.toMatchObject({ message: expect.stringMatching(/manifest checksum/) });
  });

  it('refuses a flipped byte in the device state', async () => {
    const b = Buffer.from(bytes);
    b[b.length - 5]! ^= 0xff;
    await expect(fx.rebuildFile(variant('flip-state.vpo', b))).rejects.toMatchObject({ message: expect.stringMatching(/device-state SHA-256/) });
  });

  it('refuses a truncated overlay, with and without a known size', async () => {
    const p = variant('trunc.vpo', bytes.subarray(0, bytes.length - 1000));
    await expect(fx.rebuildFile(p)).rejects.toMatchObject({ message: expect.stringMatching(/truncated/) });
    await expect(fx.rebuildFile(p, { sourceBytes: null })).rejects.toMatchObject({ message: expect.stringMatching(/truncated/) });
  });

  it('refuses an overlay larger than its manifest declares', async () => {
    const p = variant('long.vpo', Buffer.concat([bytes, Buffer.from('extra bytes')]));
    await expect(fx.rebuildFile(p)).rejects.toMatchObject({ message: expect.stringMatching(/larger than declared/) });
    await expect(fx.rebuildFile(p, { sourceBytes: null })).rejects.toMatchObject({ message: expect.stringMatching(/larger than declared/) });
  });

  it('refuses a blob that decompresses to more than its declared raw size (oversize blob)', async () => {
    // A consistent, re-signed manifest that understates one blob: only decompression can notice.
    const m = structuredClone(manifest);
    m.blobs[0]!.raw_size -= 4096;
    const p = variant('oversize.vpo', Buffer.concat([encodeHeader(m), bytes.subarray(payloadOffset)]));
    await expect(fx.rebuildFile(p)).rejects.toThrow(/more than the \d+ bytes its manifest declares \(oversize\)/);
  });

  it('refuses a wrong base, naming both ids', async () => {
    const other = 'ab'.repeat(32);
    await expect(fx.rebuildFile(fx.overlay.path, { expectBase: other })).rejects.toThrow(new RegExp(`${fx.base.id}.*${other}`));
    const m = structuredClone(manifest);
    m.base_id = other;
    const p = variant('wrongbase.vpo', Buffer.concat([encodeHeader(m), bytes.subarray(payloadOffset)]));
    await expect(fx.rebuildFile(p)).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(`needs base ${other} but this cloudlet has ${fx.base.id}`) });
  });

  it('refuses an overlay captured on another machine type before reading its payload', async () => {
    const m = structuredClone(manifest);
    m.machine.machine_type = 'pc-q35-9.0';
    const p = variant('machine.vpo', Buffer.concat([encodeHeader(m), bytes.subarray(payloadOffset)]));
    await expect(fx.rebuildFile(p)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('machineType "pc-q35-9.0" (image) vs "pc-i440fx-7.2" (this host)') });
  });

  it('refuses a file that is not an overlay', async () => {
    const p = join(fx.root, 'not.vpo');
    copyFileSync(fx.base.descriptorPath, p);
    await expect(fx.rebuildFile(p)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
