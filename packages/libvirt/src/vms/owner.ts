import { readFileSync } from 'node:fs';

/**
 * Who is doing something, in a form another process can check after a crash: pid plus the process's
 * start time (field 22 of /proc/<pid>/stat), so a recycled pid is not mistaken for the owner.
 */
export interface Owner {
  pid: number;
  start: string;
  host?: string;
}

export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function currentOwner(): Owner {
  return { pid: process.pid, start: processStart(process.pid) ?? '?' };
}

export function ownerAlive(o: Owner | undefined | null): boolean {
  if (!o || typeof o.pid !== 'number') return false;
  const start = processStart(o.pid);
  return start !== null && start === o.start;
}

export function isCurrentProcess(o: Owner | undefined | null): boolean {
  return !!o && o.pid === process.pid && ownerAlive(o);
}
