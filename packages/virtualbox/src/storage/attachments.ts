import { resolve, sep } from 'node:path';
import { SATA } from '../context.js';
import type { InstancePaths } from '../paths.js';
import type { StorageAttachment, VmInfo } from '../vboxmanage/parse/vm-info.js';

/**
 * What an attachment is follows from where its medium lives: the instance's own disks (root, rescue,
 * snapshot differencing images) are inside its folder; volumes (user files, iSCSI `server|target|lun`)
 * are not. No bookkeeping outside VirtualBox is needed, so a new process sees the same truth.
 */
function inside(location: string, dir: string): boolean {
  return !location.includes('|') && resolve(location).startsWith(dir + sep);
}

export function sataAttachments(info: VmInfo): StorageAttachment[] {
  return info.attachments.filter((a) => a.controller === SATA && a.location !== null);
}

export function isRescued(info: VmInfo, paths: InstancePaths): boolean {
  const rescue = paths.rescueDisk(info.uuid);
  return sataAttachments(info).some((a) => a.port === 0 && a.location !== null && resolve(a.location) === rescue);
}

/** The instance's own root disk: port 0, or in rescue the own disk moved to a later port. */
export function rootAttachment(info: VmInfo, paths: InstancePaths): StorageAttachment | undefined {
  const dir = paths.dir(info.uuid);
  const own = sataAttachments(info).filter((a) => inside(a.location!, dir));
  if (!isRescued(info, paths)) return own.find((a) => a.port === 0);
  const rescue = paths.rescueDisk(info.uuid);
  return own.find((a) => resolve(a.location!) !== rescue);
}

export function volumeAttachments(info: VmInfo, paths: InstancePaths): StorageAttachment[] {
  const dir = paths.dir(info.uuid);
  return sataAttachments(info).filter((a) => !inside(a.location!, dir));
}

export function usedPorts(info: VmInfo): Set<number> {
  return new Set(sataAttachments(info).map((a) => a.port));
}
