import { readFileSync, rmSync } from 'node:fs';

/** Whether pid is alive and is really `program` (a recycled pid must never be killed). */
export function processIs(pid: number, program: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && argv0.endsWith(program);
  } catch {
    return false;
  }
}

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function terminate(pid: number, program: string, pidFile: string, graceMs = 5000): Promise<void> {
  if (processIs(pid, program)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + graceMs;
    while (processIs(pid, program) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (processIs(pid, program)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      while (processIs(pid, program)) await new Promise((r) => setTimeout(r, 20));
    }
  }
  rmSync(pidFile, { force: true });
}
