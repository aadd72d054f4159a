import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * The smallest SPICE client that proves a server is there and checks a ticket: the link handshake of
 * spice-protocol (little-endian). Client → SpiceLinkHeader {magic "REDQ", major 2, minor 2, size} +
 * SpiceLinkMess {connection_id u32, channel_type u8, channel_id u8, num_common_caps u32,
 * num_channel_caps u32, caps_offset u32}; server → header + SpiceLinkReply {error u32, pub_key[162]
 * (RSA-1024 SubjectPublicKeyInfo DER), caps…}. Without the auth-selection cap the client then sends
 * the password RSA-OAEP(SHA-1)-encrypted with that key, and the server answers one u32 link result.
 */
export const SPICE_MAGIC = 'REDQ';
const HEADER = 16;
const LINK_MESS = 18;
const PUBKEY_BYTES = 162;
const CHANNEL_MAIN = 1;
export const SPICE_LINK_ERR_OK = 0;
export const SPICE_LINK_ERR_PERMISSION_DENIED = 7;

export interface SpiceLinkReply {
  /** The first 16 bytes the server sent, as received. */
  headerHex: string;
  magic: string;
  major: number;
  minor: number;
  size: number;
  error: number;
  /** The server's answer to the ticket (only when a password was given). */
  ticketResult?: number;
}

export function linkRequest(): Buffer {
  const header = Buffer.alloc(HEADER);
  header.write(SPICE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(LINK_MESS, 12);
  const mess = Buffer.alloc(LINK_MESS);
  mess.writeUInt8(CHANNEL_MAIN, 4);
  mess.writeUInt32LE(LINK_MESS, 14); // caps_offset: no caps follow
  return Buffer.concat([header, mess]);
}

/** Reads exactly n bytes (or fails on close/timeout). */
function reader(sock: Socket, timeoutMs: number) {
  let buf = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const pump = () => {
    if (!waiting) return;
    if (buf.length >= waiting.n) {
      const out = buf.subarray(0, waiting.n);
      buf = buf.subarray(waiting.n);
      const w = waiting;
      waiting = undefined;
      w.resolve(out);
    } else if (failure) {
      const w = waiting;
      waiting = undefined;
      w.reject(failure);
    }
  };
  sock.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); pump(); });
  const fail = (e: Error) => { failure ??= e; pump(); };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error(`the SPICE server closed the connection (${buf.length} unread bytes)`)));
  sock.setTimeout(timeoutMs, () => { fail(new Error(`no SPICE reply within ${timeoutMs} ms`)); sock.destroy(); });
  return (n: number) => new Promise<Buffer>((resolve, reject) => { waiting = { n, resolve, reject }; pump(); });
}

export async function spiceLink(host: string, port: number, password?: string, timeoutMs = 10_000): Promise<SpiceLinkReply> {
  const sock = connect({ host, port });
  try {
    const read = reader(sock, timeoutMs);
    sock.write(linkRequest());
    const header = await read(HEADER);
    const reply: SpiceLinkReply = {
      headerHex: header.toString('hex'),
      magic: header.subarray(0, 4).toString('latin1'),
      major: header.readUInt32LE(4),
      minor: header.readUInt32LE(8),
      size: header.readUInt32LE(12),
      error: -1,
    };
    if (reply.magic !== SPICE_MAGIC || reply.size < 4 + PUBKEY_BYTES) return reply;
    const body = await read(reply.size);
    reply.error = body.readUInt32LE(0);
    if (password === undefined || reply.error !== SPICE_LINK_ERR_OK) return reply;
    const key = createPublicKey({ key: body.subarray(4, 4 + PUBKEY_BYTES), format: 'der', type: 'spki' });
    sock.write(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(`${password}\0`, 'utf8')));
    reply.ticketResult = (await read(4)).readUInt32LE(0);
    return reply;
  } finally {
    sock.destroy();
  }
}
