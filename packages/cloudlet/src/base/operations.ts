import { mkdir, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { InvalidStateError, type InstanceRef, type MemoryImage } from '@virtplug/core';
import type { QemuImg } from '../disk/qemu-img.js';
import { checkInstanceName, type InstanceDirs } from '../instances.js';
import { launch, type CloudletDriver } from '../synthesis/launch.js';
import type { WorkDir } from '../util/workdir.js';
import { buildBase } from './build.js';
import { signatureMismatch } from './manifest.js';
import { exportPackage, unpackAndVerify } from './package.js';
import type { BaseRecord, BaseStore } from './store.js';

/** elijah's create-base: a captured running instance becomes a stored base (staged, then installed). */
export async function installCaptured(image: MemoryImage, name: string, work: WorkDir, store: BaseStore, qemu: QemuImg): Promise<BaseRecord> {
  const staging = work.file('base');
  await mkdir(staging);
  return store.install(staging, await buildBase(image, name, staging, qemu));
}

/** import-base: unpack, recompute every digest, install. */
export async function installPackage(pkg: string, work: WorkDir, store: BaseStore, qemu: QemuImg): Promise<BaseRecord> {
  const staging = work.file('base');
  await mkdir(staging);
  return store.install(staging, await unpackAndVerify(pkg, staging, qemu));
}

export { exportPackage };

/** The memory image a base restores from (its disk is the raw base disk; instances layer qcow2 on it). */
export function baseImage(base: BaseRecord, descriptor: string): MemoryImage {
  return {
    ramPath: base.ramPath,
    ramBytes: base.manifest.memory.bytes,
    statePath: base.statePath,
    diskPath: base.diskPath,
    diskFormat: 'raw',
    machine: base.manifest.machine,
    descriptor,
  };
}

export interface ResumeDeps {
  driver: CloudletDriver;
  instances: InstanceDirs;
  agentTimeoutMs: number;
}

/** resume-base: refuses an incompatible host up front, then restores the base memory. */
export async function resumeFromBase(deps: ResumeDeps, base: BaseRecord, name?: string): Promise<InstanceRef> {
  const host = await deps.driver.memoryImages.machineSignature();
  const diff = signatureMismatch(base.manifest.machine, host);
  if (diff) throw new InvalidStateError(`Base ${base.id} was captured on an incompatible machine and cannot be restored here: ${diff}.`);
  const uuid = randomUUID();
  const instanceName = name ?? `cloudlet-base-${uuid.slice(0, 8)}`;
  checkInstanceName(instanceName);
  const dir = await deps.instances.ensure(uuid);
  try {
    const l = await launch(deps.driver, deps.instances, {
      uuid,
      name: instanceName,
      baseId: base.id,
      origin: 'resume',
      image: baseImage(base, await readFile(base.descriptorPath, 'utf8')),
      dir,
      agentTimeoutMs: deps.agentTimeoutMs,
      // Its own copy of the base RAM: the base stays untouched and the instance can be captured.
      ownRam: 'copy',
    });
    return l.ref;
  } catch (e) {
    await deps.instances.remove(uuid);
    throw e;
  }
}
