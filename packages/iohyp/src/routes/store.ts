import { join } from 'node:path';
import { JsonFile } from '../util/json-file.js';
import type { RouteRecord } from './record.js';

interface RoutesFile {
  version: 1;
  routes: Record<string, RouteRecord>;
}

/** Route records in `<state>/iohyp/routes.json`, one atomic rewrite per change. */
export class RouteStore {
  private readonly file: JsonFile<RoutesFile>;

  constructor(stateDir: string) {
    this.file = new JsonFile(join(stateDir, 'routes.json'), () => ({ version: 1, routes: {} }));
  }

  get path(): string {
    return this.file.path;
  }

  list(): RouteRecord[] {
    return Object.values(this.file.read().routes).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  get(attachmentId: string): RouteRecord | undefined {
    return this.file.read().routes[attachmentId];
  }

  forInstance(uuid: string): RouteRecord[] {
    return this.list().filter((r) => r.instance.uuid === uuid);
  }

  save(record: RouteRecord): RouteRecord {
    const next = { ...record, updatedAt: new Date().toISOString() };
    this.file.update((f) => void (f.routes[record.attachmentId] = next));
    return next;
  }

  delete(attachmentId: string): void {
    this.file.update((f) => void delete f.routes[attachmentId]);
  }
}
