import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@virtplug/core';
import { HEX64 } from '../util/hash.js';
import { BASE_FILES, validateBaseManifest, type BaseManifest } from './manifest.js';

export interface BaseRecord {
  id: string;
  dir: string;
  manifest: BaseManifest;
  diskPath: string;
  ramPath: string;
  statePath: string;
  descriptorPath: string;
  memoryHashesPath: string;
  diskHashesPath: string;
}

/** Accepts a full id or a unique prefix of at least 8 hex digits (like git). */
function checkIdShape(id: string): void {
  if (typeof id !== 'string' || !/^[0-9a-f]{8,64}$/.test(id)) {
    throw new InvalidArgumentError('base id', id, 'a SHA-256 in hex (64 digits) or a unique prefix of at least 8');
  }
}

/** Installed bases under `<base_dir>/bases/<id>/`; each dir appears whole (staged, then renamed). */
export class BaseStore {
  readonly root: string;

  constructor(baseDir: string) {
    this.root = join(baseDir, 'bases');
  }

  record(id: string, manifest: BaseManifest): BaseRecord {
    const dir = join(this.root, id);
    return {
      id,
      dir,
      manifest,
      diskPath: join(dir, BASE_FILES.disk),
      ramPath: join(dir, BASE_FILES.memory),
      statePath: join(dir, BASE_FILES.state),
      descriptorPath: join(dir, BASE_FILES.descriptor),
      memoryHashesPath: join(dir, BASE_FILES.memoryHashes),
      diskHashesPath: join(dir, BASE_FILES.diskHashes),
    };
  }

  async list(): Promise<BaseRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: BaseRecord[] = [];
    for (const n of names.filter((x) => HEX64.test(x)).sort()) {
      try {
        out.push(await this.load(n));
      } catch {
        // A dir without a valid manifest is not a base (never produced by install()).
      }
    }
    return out;
  }

  async has(id: string): Promise<boolean> {
    return HEX64.test(id) && (await stat(join(this.root, id, BASE_FILES.manifest)).then(() => true, () => false));
  }

  async get(id: string): Promise<BaseRecord> {
    checkIdShape(id);
    if (id.length === 64) {
      if (!(await this.has(id))) throw new NotFoundError('cloudlet base', id, "import it with 'virtplug cloudlet import-base <package>'");
      return this.load(id);
    }
    const matches = (await this.list()).filter((b) => b.id.startsWith(id));
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new NotFoundError('cloudlet base', id, "import it with 'virtplug cloudlet import-base <package>'");
    throw new InvalidArgumentError('base id prefix', id, `a prefix matching one base (matches ${matches.map((m) => m.id.slice(0, 12)).join(', ')})`);
  }

  private async load(id: string): Promise<BaseRecord> {
    const raw = JSON.parse(await readFile(join(this.root, id, BASE_FILES.manifest), 'utf8')) as Record<string, unknown>;
    const manifest = validateBaseManifest(raw);
    if (manifest.id !== id) throw new InvalidArgumentError(`base manifest id in ${id}`, manifest.id, id);
    return this.record(id, manifest);
  }

  /** Moves a fully written staging dir into place; an existing base with that id is a conflict. */
  async install(staging: string, manifest: BaseManifest): Promise<BaseRecord> {
    await mkdir(this.root, { recursive: true });
    if (await this.has(manifest.id)) {
      throw new ConflictError(`Cloudlet base ${manifest.id} is already installed (name ${JSON.stringify(manifest.name)}); remove it first or use it as is.`, { id: manifest.id });
    }
    await rename(staging, join(this.root, manifest.id));
    return this.record(manifest.id, manifest);
  }

  async remove(id: string): Promise<void> {
    const rec = await this.get(id);
    // Rename first so a concurrent reader never sees a half-deleted base.
    const doomed = join(this.root, `.deleting-${rec.id}-${process.pid}`);
    await rename(rec.dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
}
