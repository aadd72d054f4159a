import { join } from 'node:path';
import type { NetworkInfo } from '@virtplug/core';
import { JsonFile } from '../util/json-file.js';

/** An instance that opted in (flavor extra spec io:enabled=1), with what routing needs to know of it. */
export interface OptInRecord {
  uuid: string;
  name: string;
  networkInfo: NetworkInfo;
  /** Network to route over (instance metadata `io:network`); else the first VLAN/VXLAN one. */
  preferredNetwork?: string;
  /** The sticky IOhyp, set at the first routed attach. */
  iohypHost?: string;
  recordedAt: string;
}

interface OptInFile {
  version: 1;
  instances: Record<string, OptInRecord>;
}

/** `<state>/iohyp/instances.json`: the opt-in survives restarts of whatever runs the router. */
export class OptInStore {
  private readonly file: JsonFile<OptInFile>;

  constructor(stateDir: string) {
    this.file = new JsonFile(join(stateDir, 'instances.json'), () => ({ version: 1, instances: {} }));
  }

  get(uuid: string): OptInRecord | undefined {
    return this.file.read().instances[uuid];
  }

  list(): OptInRecord[] {
    return Object.values(this.file.read().instances);
  }

  put(record: OptInRecord): void {
    this.file.update((f) => void (f.instances[record.uuid] = record));
  }

  patch(uuid: string, fn: (r: OptInRecord) => OptInRecord): void {
    this.file.update((f) => {
      const r = f.instances[uuid];
      if (r) f.instances[uuid] = fn(r);
    });
  }

  delete(uuid: string): void {
    this.file.update((f) => void delete f.instances[uuid]);
  }
}
