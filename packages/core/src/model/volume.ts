/**
 * Cinder-style connection info, as os-brick hands it to a driver: a driver_volume_type and its data.
 * Only the transports this project implements are modelled.
 */
export type VolumeConnectionInfo = IscsiConnectionInfo | NbdConnectionInfo | FileConnectionInfo;

export interface IscsiConnectionInfo {
  driverVolumeType: 'iscsi';
  volumeId: string;
  data: {
    targetPortal: string; // host:port
    targetIqn: string;
    targetLun: number;
    authMethod?: 'CHAP';
    authUsername?: string;
    authPassword?: string;
    /** When set, the initiator IQN libvirt should present. */
    initiatorIqn?: string;
  };
}

export interface NbdConnectionInfo {
  driverVolumeType: 'nbd';
  volumeId: string;
  data: { host: string; port: number; exportName?: string; tlsCredsId?: string };
}

export interface FileConnectionInfo {
  driverVolumeType: 'file';
  volumeId: string;
  data: { path: string; format?: 'raw' | 'qcow2' };
}

/** What get_volume_connector returns: who is attaching. */
export interface VolumeConnector {
  ip: string;
  host: string;
  initiator?: string;
}

/** Never log passwords: use this whenever connection info reaches a logger or an error. */
export function redactConnectionInfo(ci: VolumeConnectionInfo): VolumeConnectionInfo {
  if (ci.driverVolumeType !== 'iscsi' || ci.data.authPassword === undefined) return ci;
  return { ...ci, data: { ...ci.data, authPassword: '***' } };
}
