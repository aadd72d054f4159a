/**
 * `list vms` / `list runningvms`: `"name" {uuid}` per line. Names may hold spaces, quotes and braces, so
 * the name is everything between the first and the last quote before the uuid. An unreadable machine
 * shows as `"<inaccessible>" {uuid}`. Lines of any other shape are ignored.
 */
export interface ListedVm {
  name: string;
  uuid: string;
  inaccessible: boolean;
}

const LINE = /^"(.*)"\s+\{?([^{}\s]+)\}?\s*$/;

export function parseListVms(text: string): ListedVm[] {
  const out: ListedVm[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, uuid: m[2]!, inaccessible: m[1] === '<inaccessible>' });
  }
  return out;
}
