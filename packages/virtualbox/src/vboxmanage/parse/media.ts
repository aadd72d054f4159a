import { megabytes, parseKeyValueLines, splitBlocks } from './key-value-blocks.js';

/** One medium from `list hdds` or `showmediuminfo disk`. */
export interface MediumInfo {
  uuid: string;
  /** null for a base medium (printed as `base`). */
  parentUuid: string | null;
  state?: string;
  type?: string;
  location?: string;
  format?: string;
  variant?: string;
  capacityBytes?: number;
  sizeOnDiskBytes?: number;
  encryption?: string;
  /** Raw `In use by VMs` value(s), one per line. */
  inUseBy: string[];
  childUuids: string[];
  /** An iSCSI medium: its location is `server|target|lun`. */
  iscsi: boolean;
  fields: Record<string, string>;
}

const MB = 1024 * 1024;

function medium(fields: Record<string, string>): MediumInfo | undefined {
  const uuid = fields.UUID;
  if (!uuid) return undefined;
  const parent = fields['Parent UUID'];
  const capacity = megabytes(fields.Capacity);
  const onDisk = megabytes(fields['Size on disk']);
  const location = fields.Location;
  const lines = (v: string | undefined) => (v ? v.split('\n').map((s) => s.trim()).filter(Boolean) : []);
  return {
    uuid,
    parentUuid: !parent || parent === 'base' ? null : parent,
    ...(fields.State ? { state: fields.State } : {}),
    ...(fields.Type ? { type: fields.Type } : {}),
    ...(location ? { location } : {}),
    ...(fields['Storage format'] ? { format: fields['Storage format'] } : {}),
    ...(fields['Format variant'] ? { variant: fields['Format variant'] } : {}),
    ...(capacity !== undefined ? { capacityBytes: capacity * MB } : {}),
    ...(onDisk !== undefined ? { sizeOnDiskBytes: onDisk * MB } : {}),
    ...(fields.Encryption ? { encryption: fields.Encryption } : {}),
    inUseBy: lines(fields['In use by VMs']),
    childUuids: lines(fields['Child UUIDs']),
    iscsi: (fields['Storage format'] ?? '').toLowerCase() === 'iscsi' || (location ?? '').includes('|'),
    fields,
  };
}

/** `list hdds`: blocks separated by blank lines, each starting with `UUID:`. */
export function parseMediaList(text: string): MediumInfo[] {
  const out: MediumInfo[] = [];
  for (const block of splitBlocks(text)) {
    const fields: Record<string, string> = {};
    for (const { key, value } of parseKeyValueLines(block)) {
      // A new UUID inside one block means the blank separator was lost (CRLF quirks); start over.
      if (key === 'UUID' && fields.UUID) {
        const m = medium(fields);
        if (m) out.push(m);
        for (const k of Object.keys(fields)) delete fields[k];
      }
      fields[key] = value;
    }
    const m = medium(fields);
    if (m) out.push(m);
  }
  return out;
}

/** `showmediuminfo disk <uuid|path>`: a single block. */
export function parseMediumInfo(text: string): MediumInfo | undefined {
  return parseMediaList(text)[0];
}
