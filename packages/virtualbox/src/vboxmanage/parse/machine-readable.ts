/**
 * `showvminfo --machinereadable` (and `snapshot list --machinereadable`): `key=value` lines where keys
 * are bare (`memory`, `vrdeproperty[TCP/Ports]`) or quoted (`"SATA Controller-0-0"`), string values are
 * quoted with `\"` and `\\` escapes (Windows paths), numbers are bare, and VirtualBox 7 slips in lines
 * that are not `k=v` at all (`Encryption:     disabled`). CRLF from Windows hosts is tolerated.
 * Like nova-virtualbox, the value `none` reads as null ("no medium", "no NIC").
 */
export type MachineReadable = Record<string, string | null>;

interface Token {
  text: string;
  end: number;
}

/** Reads a quoted string starting at `line[start] === '"'`; undefined when it is not closed. */
function readQuoted(line: string, start: number): Token | undefined {
  let out = '';
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') return { text: out, end: i + 1 };
    if (c === '\\' && i + 1 < line.length) {
      const next = line[++i]!;
      out += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next === '"' || next === '\\' ? next : `\\${next}`;
      continue;
    }
    out += c;
  }
  return undefined;
}

export function parseMachineReadableLine(line: string): [string, string | null] | undefined {
  let i = 0;
  while (line[i] === ' ' || line[i] === '\t') i++;
  let key: string;
  if (line[i] === '"') {
    const q = readQuoted(line, i);
    if (!q) return undefined;
    key = q.text;
    i = q.end;
  } else {
    const eq = line.indexOf('=', i);
    if (eq < 0) return undefined;
    key = line.slice(i, eq).trim();
    // A bare key never contains spaces outside brackets; anything else is a stray line.
    if (!/^[^\s"=[]+(\[[^\]]*\])?$/.test(key)) return undefined;
    i = eq;
  }
  while (line[i] === ' ' || line[i] === '\t') i++;
  if (line[i] !== '=') return undefined;
  i++;
  while (line[i] === ' ' || line[i] === '\t') i++;
  let value: string;
  if (line[i] === '"') {
    const q = readQuoted(line, i);
    value = q ? q.text : line.slice(i + 1).trimEnd();
  } else {
    value = line.slice(i).trim();
  }
  if (key === '') return undefined;
  return [key, value === 'none' ? null : value];
}

export function parseMachineReadable(text: string): MachineReadable {
  const out: MachineReadable = {};
  for (const line of text.split(/\r?\n/)) {
    const kv = parseMachineReadableLine(line);
    if (kv) out[kv[0]] = kv[1];
  }
  return out;
}

/** A bare number value (`memory=1024`, `vrdeport=-1`); undefined when absent or not numeric. */
export function mrNumber(info: MachineReadable, key: string): number | undefined {
  const v = info[key];
  if (v === undefined || v === null || !/^-?\d+$/.test(v.trim())) return undefined;
  return Number(v);
}
