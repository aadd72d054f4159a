import { describe, expect, it } from '@jest/globals';
import { DATA_PAD, HEADER_BYTES, PARTIAL_MAGIC, buildSaveImageHead, parseSaveImageHead } from './save-image.js';

const XML = "<domain type='qemu'><name>a &amp; b</name></domain>";
const COOKIE = '<cookie><cpu/></cookie>\n';

describe('libvirt save-image header', () => {
  it('round-trips XML and cookie, keeping the 92-byte layout libvirt reads', () => {
    const head = buildSaveImageHead({ xml: XML, cookie: COOKIE, wasRunning: false, format: 0 });
    expect(head.toString('latin1', 0, 16)).toBe('LibvirtQemudSave');
    expect(head.readUInt32LE(16)).toBe(2);
    const dataLen = head.readUInt32LE(20);
    expect(head.length).toBe(HEADER_BYTES + dataLen);
    expect(dataLen).toBe(Buffer.byteLength(XML) + 1 + Buffer.byteLength(COOKIE) + 1 + DATA_PAD);
    expect(head.readUInt32LE(32)).toBe(Buffer.byteLength(XML) + 1);
    for (let w = 0; w < 14; w++) expect(head.readUInt32LE(36 + 4 * w)).toBe(0);

    const stream = Buffer.from('QEVM\0\0\0\x03rest-of-stream');
    const parsed = parseSaveImageHead(Buffer.concat([head, stream]));
    expect(parsed).toMatchObject({ version: 2, wasRunning: false, format: 0, xml: XML, cookie: COOKIE, streamOffset: head.length });
  });

  it('handles an image without a cookie', () => {
    const head = buildSaveImageHead({ xml: XML, cookie: null, wasRunning: true, format: 0 });
    expect(head.readUInt32LE(32)).toBe(0);
    const parsed = parseSaveImageHead(head);
    expect(parsed.cookie).toBeNull();
    expect(parsed.wasRunning).toBe(true);
    expect(parsed.xml).toBe(XML);
  });

  it('keeps multi-byte UTF-8 in names intact', () => {
    const xml = '<domain><name>clöne-ü</name></domain>';
    expect(parseSaveImageHead(buildSaveImageHead({ xml, cookie: null, wasRunning: false, format: 0 })).xml).toBe(xml);
  });

  it('refuses an interrupted save and foreign files', () => {
    const head = buildSaveImageHead({ xml: XML, cookie: null, wasRunning: false, format: 0 });
    head.write(PARTIAL_MAGIC, 0, 'latin1');
    expect(() => parseSaveImageHead(head)).toThrow(/interrupted save/);
    expect(() => parseSaveImageHead(Buffer.alloc(200))).toThrow(/magic/);
    expect(() => parseSaveImageHead(Buffer.alloc(10))).toThrow(/at least 92 bytes/);
  });

  it('refuses a truncated XML area', () => {
    const head = buildSaveImageHead({ xml: XML, cookie: null, wasRunning: false, format: 0 });
    expect(() => parseSaveImageHead(head.subarray(0, 200))).toThrow(/data length/);
  });
});
