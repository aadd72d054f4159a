import { stat } from 'node:fs/promises';
import { ConflictError, InvalidArgumentError, NotFoundError, PowerState, redactConnectionInfo, type InstanceRef, type VolumeConnectionInfo } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import type { ChangeScope } from '../transport/port.js';
import { pollUntil } from '../transport/timeout.js';
import { diskElement } from '../xml/build.js';
import { validateUuid } from '../xml/names.js';
import { child, elements, serializeXml } from '../xml/tree.js';
import { diskSpecFor, sameVolume, targetOf } from './disk-spec.js';
import { ensureChapSecret, removeSecret } from './secrets.js';

/** Running or paused: change the live domain and its persistent definition (so a restart keeps the volume). */
async function scopeFor(deps: LibvirtDriverDeps, uuid: string): Promise<ChangeScope> {
  const s = await deps.domains.powerState(uuid);
  return s === PowerState.RUNNING || s === PowerState.PAUSED ? { live: true, config: true } : { config: true };
}

export async function attachVolume(deps: LibvirtDriverDeps, ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const disk = diskSpecFor(uuid, ci, mountpoint, { initiatorIqn: await deps.initiatorIqn(), cache: deps.config.disk_cachemodes });
  const view = await deps.domains.view(uuid);
  const taken = view.spec.disks.find((d) => d.target === disk.target);
  if (taken) throw new ConflictError(`${mountpoint} of instance ${ref.name} is already in use; detach it first or pick another device.`, { mountpoint });
  if (disk.kind === 'file') {
    const exists = await stat(disk.path).then(() => true, () => false);
    if (!exists) throw new NotFoundError('Volume file', disk.path, 'create the backing file before attaching it');
  }
  const scope = await scopeFor(deps, uuid);
  const usage = disk.kind === 'network' ? disk.auth?.secretUsage : undefined;
  if (usage && ci.driverVolumeType === 'iscsi') await ensureChapSecret(deps, usage, ci.data.authPassword ?? '');
  try {
    await deps.transport.attachDevice(uuid, serializeXml(diskElement(disk)), scope);
  } catch (e) {
    if (usage) await removeSecret(deps, usage).catch(() => undefined);
    throw e;
  }
  deps.logger.info({ uuid, mountpoint, volume: redactConnectionInfo(ci) }, 'volume attached');
}

/**
 * Detach the disk at `mountpoint`, after checking it is the volume `ci` describes. Hot-unplug needs the
 * guest's cooperation and virsh stops waiting after a few seconds, so we poll the live XML until the
 * disk is gone (up to op_timeout_seconds) before dropping its CHAP secret.
 */
export async function detachVolume(deps: LibvirtDriverDeps, ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const target = targetOf(mountpoint);
  const wanted = diskSpecFor(uuid, ci, mountpoint, { initiatorIqn: await deps.initiatorIqn(), cache: undefined });
  const live = await deps.domains.view(uuid);
  const inactive = await deps.domains.view(uuid, { inactive: true });
  const inLive = live.spec.disks.find((d) => d.target === target);
  const inConfig = inactive.spec.disks.find((d) => d.target === target);
  const present = inLive ?? inConfig;
  if (!present) throw new NotFoundError('Volume attachment', `${ref.name}:${mountpoint}`, 'nothing is attached there');
  if (!sameVolume(present, wanted)) {
    throw new InvalidArgumentError(`volume at ${mountpoint} of ${ref.name}`, ci.volumeId, `the connection info of the volume attached there (${present.kind === 'file' ? present.path : present.sourceName})`);
  }
  const state = await deps.domains.powerState(uuid);
  const running = state === PowerState.RUNNING || state === PowerState.PAUSED;
  const scope: ChangeScope = { live: running && !!inLive, config: !!inConfig };
  const devices = child((inLive ? live : inactive).tree, 'devices');
  const element = devices && elements(devices, 'disk').find((d) => child(d, 'target')?.attrs.dev === target);
  await deps.transport.detachDevice(uuid, serializeXml(element ?? diskElement(present)), scope);
  if (scope.live) {
    await pollUntil(
      async () => ((await deps.domains.view(uuid)).spec.disks.some((d) => d.target === target) ? undefined : true),
      deps.config.op_timeout_seconds * 1000,
      `detaching ${mountpoint} from ${ref.name}`,
      250,
      'the guest did not release the disk; is its OS up?',
    );
  }
  if (wanted.kind === 'network' && wanted.auth) await removeSecret(deps, wanted.auth.secretUsage).catch(() => undefined);
  deps.logger.info({ uuid, mountpoint, volume: redactConnectionInfo(ci) }, 'volume detached');
}
