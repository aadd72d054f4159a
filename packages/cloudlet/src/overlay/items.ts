import { InvalidArgumentError } from '@virtplug/core';

/**
 * The delta item record (docs/cloudlet-format.md §3), after elijah's DeltaItem: one per changed chunk.
 * Big-endian: u8 type (kind | ref), u64 target offset, u32 length, then a payload that depends on ref.
 */
export const KIND_MEMORY = 0x01;
export const KIND_DISK = 0x02;
export type ChunkKind = typeof KIND_MEMORY | typeof KIND_DISK;

export const REF_RAW = 0x10;
export const REF_SELF = 0x30;
export const REF_BASE_DISK = 0x40;
export const REF_BASE_MEM = 0x50;
export const REF_ZEROS = 0x60;
export const REF_XOR = 0x90;
export type RefType = typeof REF_RAW | typeof REF_SELF | typeof REF_BASE_DISK | typeof REF_BASE_MEM | typeof REF_ZEROS | typeof REF_XOR;

export const ITEM_HEADER = 13;
/** The largest record: header + a raw 4 KiB chunk. */
export const MAX_ITEM = ITEM_HEADER + 4096;

export type DeltaItem =
  | { kind: ChunkKind; ref: typeof REF_RAW | typeof REF_XOR; offset: number; length: number; data: Buffer }
  | { kind: ChunkKind; ref: typeof REF_BASE_DISK | typeof REF_BASE_MEM; offset: number; length: number; source: number }
  | { kind: ChunkKind; ref: typeof REF_SELF; offset: number; length: number; pivotKind: ChunkKind; pivot: number }
  | { kind: ChunkKind; ref: typeof REF_ZEROS; offset: number; length: number };

/** Writes one record at `pos` of `out`; returns the new position. `out` must have MAX_ITEM bytes free. */
export function encodeItem(out: Buffer, pos: number, item: DeltaItem): number {
  out[pos] = item.kind | item.ref;
  out.writeBigUInt64BE(BigInt(item.offset), pos + 1);
  out.writeUInt32BE(item.length, pos + 9);
  let p = pos + ITEM_HEADER;
  switch (item.ref) {
    case REF_RAW:
    case REF_XOR:
      item.data.copy(out, p, 0, item.length);
      return p + item.length;
    case REF_BASE_DISK:
    case REF_BASE_MEM:
      out.writeBigUInt64BE(BigInt(item.source), p);
      return p + 8;
    case REF_SELF:
      out[p] = item.pivotKind;
      out.writeBigUInt64BE(BigInt(item.pivot), p + 1);
      return p + 9;
    case REF_ZEROS:
      return p;
  }
}

export function encodedSize(item: DeltaItem): number {
  switch (item.ref) {
    case REF_RAW:
    case REF_XOR:
      return ITEM_HEADER + item.length;
    case REF_BASE_DISK:
    case REF_BASE_MEM:
      return ITEM_HEADER + 8;
    case REF_SELF:
      return ITEM_HEADER + 9;
    case REF_ZEROS:
      return ITEM_HEADER;
  }
}

function bad(what: string, value: unknown, pos: number): never {
  throw new InvalidArgumentError(`overlay blob ${what} at byte ${pos}`, value, 'a well-formed delta item (docs/cloudlet-format.md §3)');
}

/** Iterates the records of a decompressed blob; refuses anything malformed or out of bounds. */
export function* decodeItems(blob: Buffer, maxChunk = 4096): Generator<DeltaItem> {
  let pos = 0;
  while (pos < blob.length) {
    if (pos + ITEM_HEADER > blob.length) bad('truncated header', blob.length - pos, pos);
    const type = blob[pos]!;
    const kind = (type & 0x0f) as ChunkKind;
    const ref = (type & 0xf0) as RefType;
    if (kind !== KIND_MEMORY && kind !== KIND_DISK) bad('kind', type, pos);
    const offset = Number(blob.readBigUInt64BE(pos + 1));
    const length = blob.readUInt32BE(pos + 9);
    if (length === 0 || length > maxChunk) bad('length', length, pos);
    const p = pos + ITEM_HEADER;
    switch (ref) {
      case REF_RAW:
      case REF_XOR:
        if (p + length > blob.length) bad('truncated data', length, pos);
        yield { kind, ref, offset, length, data: blob.subarray(p, p + length) };
        pos = p + length;
        break;
      case REF_BASE_DISK:
      case REF_BASE_MEM:
        if (p + 8 > blob.length) bad('truncated base reference', type, pos);
        yield { kind, ref, offset, length, source: Number(blob.readBigUInt64BE(p)) };
        pos = p + 8;
        break;
      case REF_SELF: {
        if (p + 9 > blob.length) bad('truncated self reference', type, pos);
        const pivotKind = blob[p] as ChunkKind;
        if (pivotKind !== KIND_MEMORY && pivotKind !== KIND_DISK) bad('pivot kind', pivotKind, pos);
        yield { kind, ref, offset, length, pivotKind, pivot: Number(blob.readBigUInt64BE(p + 1)) };
        pos = p + 9;
        break;
      }
      case REF_ZEROS:
        yield { kind, ref, offset, length };
        pos = p;
        break;
      default:
        bad('reference type', type, pos);
    }
  }
}
