import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname, resolve } from 'node:path';
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  type InstanceRef,
  type IscsiConnectionInfo,
  type VolumeConnectionInfo,
  type VolumeConnector,
} from '@virtplug/core';
import { SATA, SATA_PORTS, type DriverContext } from '../context.js';
import { hostAddress } from '../host/host.js';
import type { StorageAttachment } from '../vboxmanage/parse/vm-info.js';
import { closeMediumQuietly } from './disks.js';
import { sataAttachments, usedPorts, volumeAttachments } from './attachments.js';
import { portForMountpoint } from './mountpoint.js';

/** The initiator name VirtualBox presents to iSCSI targets (nova-virtualbox: iqn.2008-04.com.sun:<host>). */
export function initiatorName(): string {
  return `iqn.2008-04.com.sun:${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
}

export function volumeConnector(): VolumeConnector {
  return { ip: hostAddress(), host: hostname(), initiator: initiatorName() };
}

function splitPortal(portal: string): { host: string; port: string } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(portal) ?? /^([^:]+)(?::(\d+))?$/.exec(portal);
  if (!m) throw new InvalidArgumentError('iSCSI target portal', portal, 'host:port, e.g. 192.168.1.10:3260 or [fd00::1]:3260');
  return { host: m[1]!, port: m[2] ?? '3260' };
}

const FILE_FORMATS = new Set(['.vdi', '.vmdk', '.vhd', '.vhdx', '.qcow2', '.qcow', '.qed', '.hdd']);

/** `storageattach` arguments naming the medium of a volume. */
function mediumArgs(ci: VolumeConnectionInfo): string[] {
  if (ci.driverVolumeType === 'file') {
    const path = resolve(ci.data.path);
    if (!existsSync(path)) throw new NotFoundError('volume file', ci.data.path, `volume ${ci.volumeId}`);
    if (ci.data.format === 'raw' || !FILE_FORMATS.has(extname(path).toLowerCase())) {
      throw new InvalidArgumentError(
        `file volume ${ci.volumeId}`,
        ci.data.path,
        'a VDI, VMDK, VHD or QCOW2 image (VirtualBox cannot attach raw files; convert with VBoxManage convertfromraw)',
      );
    }
    return ['--medium', path];
  }
  if (ci.driverVolumeType === 'iscsi') {
    const { host, port } = splitPortal(ci.data.targetPortal);
    const args = ['--medium', 'iscsi', '--server', host, '--tport', port, '--target', ci.data.targetIqn, '--lun', String(ci.data.targetLun)];
    args.push('--initiator', ci.data.initiatorIqn ?? initiatorName());
    if (ci.data.authMethod === 'CHAP') {
      if (!ci.data.authUsername || ci.data.authPassword === undefined) {
        throw new InvalidArgumentError(`CHAP credentials of volume ${ci.volumeId}`, 'incomplete', 'authUsername and authPassword');
      }
      args.push('--username', ci.data.authUsername, '--password', ci.data.authPassword);
    }
    return args;
  }
  throw new InvalidArgumentError('volume type', ci.driverVolumeType, 'iscsi or file (the VirtualBox driver attaches no other transport)');
}

/** Whether an attachment's medium is this volume: the file path, or iSCSI `server|target|lun`. */
function matches(a: StorageAttachment, ci: VolumeConnectionInfo): boolean {
  if (!a.location) return false;
  if (ci.driverVolumeType === 'file') return resolve(a.location) === resolve(ci.data.path);
  if (ci.driverVolumeType === 'iscsi') {
    const [, target, lun = '0'] = a.location.split('|');
    return target === (ci as IscsiConnectionInfo).data.targetIqn && Number(lun) === ci.data.targetLun;
  }
  return false;
}

/** Hot-plugs (SATA) or attaches a volume at the mountpoint's port, or the first free one. */
export async function attachVolume(ctx: DriverContext, ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
  const medium = mediumArgs(ci);
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  if (volumeAttachments(info, ctx.paths).some((a) => matches(a, ci))) {
    throw new ConflictError(`Volume ${ci.volumeId} is already attached to instance ${JSON.stringify(ref.name)}.`, { volumeId: ci.volumeId });
  }
  const used = usedPorts(info);
  let port = portForMountpoint(mountpoint);
  if (port === undefined) port = [...Array(SATA_PORTS).keys()].find((p) => p > 0 && !used.has(p));
  if (port === undefined) throw new ConflictError(`Instance ${JSON.stringify(ref.name)} has no free SATA port for volume ${ci.volumeId}.`);
  if (used.has(port)) {
    throw new ConflictError(`Mountpoint ${mountpoint} (SATA port ${port}) of instance ${JSON.stringify(ref.name)} is in use; detach it first or choose another.`, {
      mountpoint,
      port,
    });
  }
  await ctx.vbox.run(
    ['storageattach', ref.uuid, '--storagectl', SATA, '--port', String(port), '--device', '0', '--type', 'hdd', '--hotpluggable', 'on', ...medium],
    { target: ref.name },
  );
}

export async function detachVolume(ctx: DriverContext, ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
  const info = await ctx.vbox.showVmInfo(ref.uuid);
  const volumes = volumeAttachments(info, ctx.paths);
  const byMount = portForMountpoint(mountpoint);
  const attachment = volumes.find((a) => a.port === byMount && matches(a, ci)) ?? volumes.find((a) => matches(a, ci));
  if (!attachment) {
    const attached = sataAttachments(info).map((a) => `port ${a.port}`).join(', ');
    throw new NotFoundError('volume attachment', ci.volumeId, `instance ${JSON.stringify(ref.name)} has ${attached || 'no disks'} and none is this volume`);
  }
  await ctx.vbox.run(['storageattach', ref.uuid, '--storagectl', SATA, '--port', String(attachment.port), '--device', '0', '--medium', 'none'], {
    target: ref.name,
  });
  // Unregister the medium (iSCSI media would otherwise pile up in the registry); never delete a volume's data.
  await closeMediumQuietly(ctx, attachment.imageUuid ?? attachment.location!);
}
