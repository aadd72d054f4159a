import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@virtplug/core';
import { writeJsonAtomic } from '@virtplug/core';
import { ownerAlive, readJson, type Owner } from './util/workdir.js';

/** What the cloudlet remembers about an instance it started (resumed base, synthesis, handoff). */
export interface InstanceRecord {
  uuid: string;
  name: string;
  base_id: string;
  origin: 'resume' | 'synthesis' | 'handoff';
  /** `launching` until the agent answered; a dead owner with `launching` means: undo it. */
  phase: 'launching' | 'running';
  owner: Owner | null;
  created_at: string;
}

export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkInstanceName(name: string): void {
  if (typeof name !== 'string' || !INSTANCE_NAME.test(name)) {
    throw new InvalidArgumentError('instance name', name, '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `<base_dir>/instances/<uuid>/`: files an instance runs on (rebuilt RAM, disk layers) + instance.json. */
export class InstanceDirs {
  readonly root: string;

  constructor(baseDir: string) {
    this.root = join(baseDir, 'instances');
  }

  dir(uuid: string): string {
    if (!UUID.test(uuid)) throw new InvalidArgumentError('instance uuid', uuid, 'a lowercase RFC 4122 UUID');
    return join(this.root, uuid);
  }

  async adopt(workPath: string, uuid: string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const dest = this.dir(uuid);
    await rename(workPath, dest);
    return dest;
  }

  async ensure(uuid: string): Promise<string> {
    const d = this.dir(uuid);
    await mkdir(d, { recursive: true });
    return d;
  }

  async write(rec: InstanceRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir(rec.uuid), 'instance.json'), rec);
  }

  async read(uuid: string): Promise<InstanceRecord | null> {
    if (!UUID.test(uuid)) return null;
    return readJson<InstanceRecord>(join(this.dir(uuid), 'instance.json'));
  }

  async list(): Promise<Array<{ uuid: string; record: InstanceRecord | null }>> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const out: Array<{ uuid: string; record: InstanceRecord | null }> = [];
    for (const n of names) if (UUID.test(n)) out.push({ uuid: n, record: await this.read(n) });
    return out;
  }

  async remove(uuid: string): Promise<void> {
    await rm(this.dir(uuid), { recursive: true, force: true });
  }

  /** A launch whose process died before it finished. */
  static abandoned(rec: InstanceRecord | null): boolean {
    return !rec || (rec.phase === 'launching' && (!rec.owner || !ownerAlive(rec.owner)));
  }
}
