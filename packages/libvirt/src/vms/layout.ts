import { join } from 'node:path';
import { assertUuid } from './names.js';

export interface VmsPaths {
  /** `<state_path>/vms`: manifests and artifacts of live images, per blessed UUID. */
  root: string;
  /** tmpfs (or hugetlbfs) for RAM files: shared-mode templates and blessed RAM. */
  ramDir: string;
  /** Short paths for sockets and FIFOs (sun_path is 108 bytes). */
  runDir: string;
}

/** Every path is built from validated UUIDs only: names never reach the filesystem. */
export class VmsLayout {
  constructor(readonly paths: VmsPaths) {}

  blessedDir(id: string): string {
    return join(this.paths.root, assertUuid(id, 'live image id'));
  }
  manifest(id: string): string {
    return join(this.blessedDir(id), 'manifest.json');
  }
  stateImage(id: string): string {
    return join(this.blessedDir(id), 'state.img');
  }
  blessedDisk(id: string, target: string): string {
    return join(this.blessedDir(id), `disk-${safeTarget(target)}.qcow2`);
  }
  overlayTemplate(id: string, target: string): string {
    return join(this.blessedDir(id), `overlay-${safeTarget(target)}.qcow2`);
  }
  blessedRam(id: string): string {
    return join(this.paths.ramDir, `${assertUuid(id, 'live image id')}.ram`);
  }
  /** The RAM file a shared-mode template runs on while it is alive. */
  liveRam(instanceUuid: string): string {
    return join(this.paths.ramDir, 'live', `${assertUuid(instanceUuid, 'instance UUID')}.ram`);
  }
  cloneDir(blessedId: string, cloneUuid: string): string {
    return join(this.blessedDir(blessedId), 'clones', assertUuid(cloneUuid, 'clone UUID'));
  }
  /** Files of an instance restored from a MemoryImage (no live image record). */
  restoredDir(uuid: string): string {
    return join(this.paths.root, 'restored', assertUuid(uuid, 'instance UUID'));
  }
  cloneRun(cloneUuid: string): string {
    return join(this.paths.runDir, assertUuid(cloneUuid, 'clone UUID'));
  }
  locks(): string {
    return join(this.paths.root, '.locks');
  }
  lock(uuid: string): string {
    return join(this.locks(), `${assertUuid(uuid)}.lock`);
  }
}

function safeTarget(t: string): string {
  if (!/^[a-z]{2,4}[a-z0-9]{0,3}$/.test(t)) throw new Error(`unexpected disk target ${JSON.stringify(t)}`);
  return t;
}
