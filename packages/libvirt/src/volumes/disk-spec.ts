import { InvalidArgumentError, UnsupportedOperationError, type VolumeConnectionInfo } from '@virtplug/core';
import type { DiskSpec } from '../xml/domain-spec.js';
import { chapUsage } from './secrets.js';

/** `/dev/vdb` or `vdb` → `vdb`. */
export function targetOf(mountpoint: string): string {
  const m = /^(?:\/dev\/)?((?:vd|sd|hd|xvd)[a-z]{1,2})$/.exec(String(mountpoint));
  if (!m) throw new InvalidArgumentError('volume mountpoint', mountpoint, 'a guest device like /dev/vdb');
  return m[1]!;
}

/** virtio-blk serials are at most 20 bytes of a safe alphabet: the guest finds the volume by it. */
export function serialOf(volumeId: string): string {
  const s = String(volumeId).replace(/[^A-Za-z0-9_.+-]/g, '').slice(0, 20);
  return s || 'volume';
}

/** `host:port`, `[v6]:port` or a bare host (port 3260). */
export function parsePortal(portal: string): { name: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(String(portal));
  const port = m?.[3] ? Number(m[3]) : 3260;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError('iSCSI target portal', portal, 'host:port, e.g. 127.0.0.1:3260');
  return { name: (m[1] ?? m[2])!, port };
}

const IQN = /^(iqn\.\d{4}-\d{2}\.[^\s/]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;

/**
 * Cinder connection info → the disk we attach. File volumes are `<disk type='file'>`; NBD and iSCSI
 * use QEMU's built-in clients as `<disk type='network'>`, so nothing is logged in on the host (no
 * iscsiadm) and the guest sees a virtio disk either way.
 */
export function diskSpecFor(
  instanceUuid: string,
  ci: VolumeConnectionInfo,
  mountpoint: string,
  options: { initiatorIqn: string; cache: DiskSpec['cache'] },
): DiskSpec {
  const target = targetOf(mountpoint);
  const common = { target, bus: 'virtio' as const, serial: serialOf(ci.volumeId), ...(options.cache ? { cache: options.cache } : {}) };
  switch (ci.driverVolumeType) {
    case 'file': {
      const path = ci.data?.path;
      if (typeof path !== 'string' || !path.startsWith('/') || path.split('/').includes('..')) {
        throw new InvalidArgumentError('file volume path', path, 'an absolute path without ..');
      }
      return { kind: 'file', path, format: ci.data.format ?? 'raw', ...common };
    }
    case 'nbd': {
      const { host, port, exportName, tlsCredsId } = ci.data ?? ({} as typeof ci.data);
      if (tlsCredsId) throw new UnsupportedOperationError('libvirt', 'attachVolume', 'NBD over TLS needs nbd_tls in qemu.conf; not configured by virtplug');
      if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('NBD volume host/port', `${host}:${port}`, 'a host and a port 1–65535');
      return { kind: 'network', protocol: 'nbd', hosts: [{ name: host, port }], ...(exportName ? { sourceName: exportName } : {}), format: 'raw', ...common };
    }
    case 'iscsi': {
      const d = ci.data ?? ({} as typeof ci.data);
      if (!IQN.test(d.targetIqn ?? '')) throw new InvalidArgumentError('iSCSI target IQN', d.targetIqn, 'an IQN like iqn.2026-11.dev.virtplug:vol1');
      if (!Number.isInteger(d.targetLun) || d.targetLun < 0) throw new InvalidArgumentError('iSCSI LUN', d.targetLun, 'an integer >= 0');
      const initiator = d.initiatorIqn ?? options.initiatorIqn;
      if (!IQN.test(initiator)) throw new InvalidArgumentError('iSCSI initiator IQN', initiator, 'an IQN like iqn.2026-11.dev.virtplug:host');
      let auth: { username: string; secretUsage: string } | undefined;
      if (d.authMethod !== undefined) {
        if (String(d.authMethod).toUpperCase() !== 'CHAP') throw new InvalidArgumentError('iSCSI auth method', d.authMethod, 'CHAP or none');
        if (!d.authUsername || d.authPassword === undefined) throw new InvalidArgumentError('iSCSI CHAP credentials', d.authUsername ?? '', 'authUsername and authPassword');
        auth = { username: d.authUsername, secretUsage: chapUsage(instanceUuid, ci.volumeId) };
      }
      return {
        kind: 'network',
        protocol: 'iscsi',
        sourceName: `${d.targetIqn}/${d.targetLun}`,
        hosts: [parsePortal(d.targetPortal)],
        ...(auth ? { auth } : {}),
        initiatorIqn: initiator,
        format: 'raw',
        ...common,
      };
    }
    default:
      throw new InvalidArgumentError('volume driverVolumeType', (ci as { driverVolumeType?: unknown }).driverVolumeType, 'file, nbd or iscsi');
  }
}

/** Whether a disk in the domain is the volume described by `ci` (so detach removes the right one). */
export function sameVolume(disk: DiskSpec, wanted: DiskSpec): boolean {
  if (disk.kind !== wanted.kind) return false;
  if (disk.kind === 'file' && wanted.kind === 'file') return disk.path === wanted.path;
  if (disk.kind === 'network' && wanted.kind === 'network') return disk.protocol === wanted.protocol && (disk.sourceName ?? '') === (wanted.sourceName ?? '') && disk.hosts[0]?.port === wanted.hosts[0]?.port;
  return false;
}
