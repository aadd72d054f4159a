/**
 * The human-readable lists (`list hostinfo`, `list hdds`, `showmediuminfo`, `list extpacks`): `Label: value`
 * lines in blocks separated by blank lines, labels padded to a column whose width differs by version.
 * Indented lines continue the previous label (multi-line values such as `Child UUIDs:`).
 */
export interface KeyValueLine {
  key: string;
  value: string;
}

export function splitBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current.length) blocks.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length) blocks.push(current);
  return blocks;
}

export function parseKeyValueLines(lines: string[]): KeyValueLine[] {
  const out: KeyValueLine[] = [];
  for (const line of lines) {
    if (/^\s/.test(line) && out.length) {
      const prev = out[out.length - 1]!;
      prev.value = prev.value ? `${prev.value}\n${line.trim()}` : line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ key: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

/** "65536 MBytes" / "16384 MByte" → 65536; undefined when not a number of megabytes. */
export function megabytes(value: string | undefined): number | undefined {
  const m = value ? /^(\d+)\s*MBytes?$/i.exec(value.trim()) : null;
  return m ? Number(m[1]) : undefined;
}
