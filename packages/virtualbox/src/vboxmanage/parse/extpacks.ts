import { parseKeyValueLines } from './key-value-blocks.js';

/** `list extpacks`: `Pack no. N:   <name>` headers followed by fields, in 4.x or 7.x alignment. */
export interface ExtPack {
  index: number;
  name: string;
  version?: string;
  revision?: string;
  description?: string;
  /** VBoxVRDP (RDP, Oracle pack) or VBoxVNC (VNC pack). */
  vrdeModule?: string;
  usable: boolean;
  whyUnusable?: string;
}

const HEADER = /^Pack no\.\s*(\d+):\s+(.+?)\s*$/;

export function parseExtPacks(text: string): ExtPack[] {
  const out: ExtPack[] = [];
  let current: { index: number; name: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const fields: Record<string, string> = {};
    for (const { key, value } of parseKeyValueLines(current.lines)) fields[key] = value;
    const pack: ExtPack = { index: current.index, name: current.name, usable: (fields.Usable ?? 'true').toLowerCase() === 'true' };
    if (fields.Version) pack.version = fields.Version;
    if (fields.Revision) pack.revision = fields.Revision;
    if (fields.Description) pack.description = fields.Description;
    if (fields['VRDE Module']) pack.vrdeModule = fields['VRDE Module'];
    if (fields['Why unusable']) pack.whyUnusable = fields['Why unusable'];
    out.push(pack);
  };
  for (const line of text.split(/\r?\n/)) {
    const m = HEADER.exec(line);
    if (m) {
      flush();
      current = { index: Number(m[1]), name: m[2]!, lines: [] };
    } else if (current && !/^\s/.test(line)) {
      current.lines.push(line);
    }
  }
  flush();
  return out;
}
