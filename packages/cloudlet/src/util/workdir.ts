import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@virtplug/core';

export interface Owner {
  pid: number;
  /** /proc start time of the pid, so a recycled pid is not mistaken for the owner. */
  startTime: string;
  purpose: string;
  createdAt: string;
}

function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function currentOwner(purpose: string): Owner {
  return { pid: process.pid, startTime: procStart(process.pid) ?? '', purpose, createdAt: new Date().toISOString() };
}

export function ownerAlive(o: Owner): boolean {
  return procStart(o.pid) === o.startTime;
}


export class WorkDir {
  constructor(readonly path: string) {}

  file(name: string): string {
    return join(this.path, name);
  }

  /** What a later cleanup must undo if this process dies (e.g. the instance being launched). */
  async journal(data: Record<string, unknown>): Promise<void> {
    await writeJsonAtomic(this.file('journal.json'), data);
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

/**
 * Temporary directories of long operations (synthesis, import, handoff), each owned by a pid. A dir
 * whose owner is gone is stale: cleanup undoes its journal and removes it.
 */
export class WorkDirs {
  constructor(readonly root: string) {}

  async create(purpose: string): Promise<WorkDir> {
    await mkdir(this.root, { recursive: true });
    const path = join(this.root, `${purpose}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    await mkdir(path);
    await writeJsonAtomic(join(path, 'owner.json'), currentOwner(purpose));
    return new WorkDir(path);
  }

  /** Stale dirs with their journals; dirs without a readable owner are stale too (died while creating). */
  async stale(): Promise<Array<{ dir: WorkDir; journal: Record<string, unknown> | null }>> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: Array<{ dir: WorkDir; journal: Record<string, unknown> | null }> = [];
    for (const name of names) {
      const path = join(this.root, name);
      const owner = await readJson<Owner>(join(path, 'owner.json'));
      if (owner && ownerAlive(owner)) continue;
      // A dir another process is creating right now has no owner file yet: give it a minute.
      if (!owner && Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs < 60_000) continue;
      out.push({ dir: new WorkDir(path), journal: await readJson(join(path, 'journal.json')) });
    }
    return out;
  }
}

export async function readJson<T = Record<string, unknown>>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
