// Disk image files of the fake: VDIs it writes carry a real VDI preamble and signature, a JSON header
// (uuid, parent, capacity) and then "payload" bytes standing in for disk blocks. Other formats are
// recognised by their magic numbers, as VirtualBox does; anything else is not a disk image.
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, appendFileSync } from 'node:fs';

const PREAMBLE = '<<< Oracle VM VirtualBox Disk Image >>>\n';
const HEADER_BYTES = 512;

function head(path, n) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** @returns {{format: string, uuid?: string, parent?: string|null, capacityMb: number, harness: boolean} | undefined} */
export function probeDisk(path) {
  const size = statSync(path).size;
  const h = head(path, HEADER_BYTES);
  const mb = Math.max(1, Math.ceil(size / 1048576));
  if (h.subarray(0, PREAMBLE.length).toString('latin1') === PREAMBLE && h.readUInt32LE(64) === 0xbeda107f) {
    const meta = h.subarray(72, HEADER_BYTES).toString('utf8').replace(/\0+$/, '').trim();
    if (meta.startsWith('{')) {
      const m = JSON.parse(meta);
      return { format: 'VDI', uuid: m.uuid, parent: m.parent ?? null, capacityMb: m.capacityMb, harness: true };
    }
    return { format: 'VDI', capacityMb: mb, harness: false };
  }
  if (h.length >= 32 && h.readUInt32BE(0) === 0x514649fb) {
    const bytes = Number(h.readBigUInt64BE(24));
    return { format: 'QCOW', capacityMb: Math.max(1, Math.ceil(bytes / 1048576)), harness: false };
  }
  if (h.subarray(0, 4).toString('latin1') === 'KDMV' || h.toString('latin1').startsWith('# Disk DescriptorFile')) {
    return { format: 'VMDK', capacityMb: mb, harness: false };
  }
  if (h.subarray(0, 8).toString('latin1') === 'conectix') return { format: 'VHD', capacityMb: mb, harness: false };
  return undefined;
}

export function writeVdi(path, { uuid = randomUUID(), parent = null, capacityMb, payload = Buffer.alloc(0) }) {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(PREAMBLE, 0, 'latin1');
  header.writeUInt32LE(0xbeda107f, 64);
  header.writeUInt32LE(0x00010001, 68);
  header.write(JSON.stringify({ uuid, parent, capacityMb }), 72, 'utf8');
  writeFileSync(path, Buffer.concat([header, payload]), { flag: 'wx' });
  return uuid;
}

/** The bytes standing for a disk's content: after the header for our VDIs, the whole file otherwise. */
export function payloadOf(path) {
  const data = readFileSync(path);
  const p = probeDisk(path);
  return p?.harness ? data.subarray(HEADER_BYTES) : data;
}

export function setCapacity(path, capacityMb) {
  const data = readFileSync(path);
  const p = probeDisk(path);
  if (!p?.harness) return;
  const header = Buffer.alloc(HEADER_BYTES);
  data.copy(header, 0, 0, 72);
  header.write(JSON.stringify({ uuid: p.uuid, parent: p.parent, capacityMb }), 72, 'utf8');
  writeFileSync(path, Buffer.concat([header, data.subarray(HEADER_BYTES)]));
}

/** A guest "writing" to its disk: only to images the fake made, never to a user's qcow2 or VMDK. */
export function guestWrite(path, text) {
  try {
    if (probeDisk(path)?.harness) appendFileSync(path, text);
  } catch {
    // a missing file is VirtualBox's problem at the next open, not the guest's
  }
}
