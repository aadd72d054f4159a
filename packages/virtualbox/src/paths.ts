import { join, resolve, sep } from 'node:path';
import { InvalidArgumentError, type InstanceRef } from '@virtplug/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Instances are VirtualBox machines created with the instance UUID as machine UUID, so every call
 * addresses them by UUID. Names are free text (spaces, quotes, `;` are fine: argv, never a shell) but
 * control characters would break `list vms`, so they are refused.
 */
export function checkInstanceRef(ref: InstanceRef): void {
  if (typeof ref.uuid !== 'string' || !UUID.test(ref.uuid)) {
    throw new InvalidArgumentError('instance uuid', ref.uuid, 'a UUID such as 6294f16b-4f05-4430-afb9-773bdb237aec (it becomes the VirtualBox machine UUID)');
  }
  if (typeof ref.name !== 'string' || ref.name.trim() === '' || CONTROL.test(ref.name) || ref.name.length > 200) {
    throw new InvalidArgumentError('instance name', ref.name, 'a non-empty name of at most 200 characters without control characters');
  }
}

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** Where an instance's files live: one folder per UUID under instances_path. */
export class InstancePaths {
  constructor(
    readonly instancesPath: string,
    readonly imagesPath: string,
  ) {}

  dir(uuid: string): string {
    if (!UUID.test(uuid)) throw new InvalidArgumentError('instance uuid', uuid, 'a UUID');
    return join(resolve(this.instancesPath), uuid.toLowerCase());
  }

  rootDisk(uuid: string): string {
    return join(this.dir(uuid), 'root.vdi');
  }

  rescueDisk(uuid: string): string {
    return join(this.dir(uuid), 'rescue.vdi');
  }

  consoleLog(uuid: string): string {
    return join(this.dir(uuid), 'console.log');
  }

  baseDir(): string {
    return join(resolve(this.instancesPath), '_base');
  }

  /** Where a snapshot named `imageName` is exported; names that would leave images_path are refused. */
  imageExport(imageName: string): string {
    if (!imageName || CONTROL.test(imageName) || /[/\\]/.test(imageName) || imageName === '.' || imageName === '..' || imageName.length > 200) {
      throw new InvalidArgumentError('image name', imageName, 'a file-name-safe name without "/", "\\" or control characters');
    }
    const path = join(resolve(this.imagesPath), `${imageName}.vdi`);
    if (!path.startsWith(resolve(this.imagesPath) + sep)) throw new InvalidArgumentError('image name', imageName, 'a name inside images_path');
    return path;
  }
}
