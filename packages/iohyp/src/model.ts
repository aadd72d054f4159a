/**
 * The shapes the router and the agent share (the wire contract), after OpenStack's: an iSCSI or file
 * backend as Cinder's connection_info gives it, a tenant segment as Neutron's provider attributes give
 * it, and an NBD export as our own `driver_volume_type: 'nbd'` (docs/iohyp.md "Data model").
 */
export type SegmentKind = 'vlan' | 'vxlan';

export interface Segment {
  type: SegmentKind;
  /** VLAN id (1-4094) or VXLAN VNI (1-16777215): Neutron's provider:segmentation_id. */
  id: number;
}

export interface ChapCredentials {
  username: string;
  password: string;
}

export interface IscsiBackendSpec {
  type: 'iscsi';
  /** host:port of the target portal. */
  portal: string;
  iqn: string;
  lun: number;
  chap?: ChapCredentials;
}

export interface FileBackendSpec {
  type: 'file';
  path: string;
  format: 'raw' | 'qcow2';
}

export type BackendSpec = IscsiBackendSpec | FileBackendSpec;

/** What the agent reports for a connected backend; never carries a secret. */
export interface BackendInfo {
  id: string;
  /** iscsi://portal/iqn/lun or the file path: what was connected, for records and humans. */
  url: string;
  type: BackendSpec['type'];
  sizeBytes: number;
  chap: boolean;
}

export interface SegmentPortInfo {
  segment: Segment;
  iface: string;
  /** ip/prefix on the segment. */
  address: string;
  /** Which adapter made it: ovs, vlan or vxlan. */
  backend: string;
  holders: string[];
}

export interface ExportInfo {
  id: string;
  backendId: string;
  segment: Segment;
  host: string;
  port: number;
  name: string;
  /** Source addresses the ACL admits; null = no ACL (bind address only). */
  allow: string[] | null;
  exporter: string;
  pid: number;
  alive?: boolean;
}

export interface AgentStatus {
  agent: string;
  backends: BackendInfo[];
  exports: ExportInfo[];
  ports: SegmentPortInfo[];
  segmentBackends: Array<{ name: string; usable: boolean; reason: string }>;
}

export function segmentKey(s: Segment): string {
  return `${s.type}:${s.id}`;
}

export function backendUrl(spec: BackendSpec): string {
  return spec.type === 'iscsi' ? `iscsi://${spec.portal}/${spec.iqn}/${spec.lun}` : spec.path;
}

/** The spec without its secret, for records and logs. */
export function redactBackend(spec: BackendSpec): BackendSpec {
  if (spec.type !== 'iscsi' || !spec.chap) return spec;
  return { ...spec, chap: { username: spec.chap.username, password: '***' } };
}
