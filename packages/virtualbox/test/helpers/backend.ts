import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A real VBoxManage on PATH (or VIRTPLUG_VBOXMANAGE): the contract then runs live against it. */
export function liveVBoxManage(): string | undefined {
  const explicit = process.env.VIRTPLUG_VBOXMANAGE;
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'VBoxManage');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Installed extension packs of a live VBoxManage, read synchronously so tests can be declared from them. */
export function livePacks(cmd: string): string {
  try {
    return execFileSync(cmd, ['--nologo', 'list', 'extpacks'], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }, timeout: 60_000 });
  } catch {
    return '';
  }
}
