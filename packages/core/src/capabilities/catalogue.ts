/**
 * The feature catalogue: Nova's support-matrix rows (ids exactly as in Nova's support-matrix.ini of the
 * Kilo era, which seed 004's VirtualBox column follows), plus this project's extensions. Data only: the
 * report code reads it, and no driver is named here.
 */
export type FeatureStatus = 'mandatory' | 'optional' | `choice(${string})` | `condition(${string})`;
export type FeatureGroup = 'operation' | 'guest' | 'console' | 'storage' | 'networking' | 'vms' | 'iohyp' | 'cloudlet';

export interface Feature {
  id: string;
  title: string;
  group: FeatureGroup;
  status: FeatureStatus;
  notes?: string;
  /** The CLI commands that exercise it, as Nova's `cli=` field. */
  cli?: string[];
}

const f = (id: string, title: string, status: FeatureStatus, cli?: string[], notes?: string): Feature => ({
  id,
  title,
  group: id.split('.')[0] as FeatureGroup,
  status,
  ...(cli ? { cli } : {}),
  ...(notes ? { notes } : {}),
});

export const FEATURES: readonly Feature[] = Object.freeze([
  f('operation.attach-volume', 'Attach block volume to instance', 'optional', ['virtplug volume-attach']),
  f('operation.detach-volume', 'Detach block volume from instance', 'optional', ['virtplug volume-detach']),
  f('operation.evacuate', 'Evacuate instances from host', 'optional'),
  f('operation.get-guest-info', 'Guest instance status', 'mandatory', ['virtplug show']),
  f('operation.get-host-info', 'Guest host status', 'optional', ['virtplug host']),
  f('operation.live-migrate', 'Live migrate instance across hosts', 'optional', ['virtplug gc-migrate']),
  f('operation.launch', 'Launch instance', 'mandatory', ['virtplug boot']),
  f('operation.pause', 'Stop instance CPUs', 'optional', ['virtplug pause']),
  f('operation.reboot', 'Reboot instance', 'optional', ['virtplug reboot']),
  f('operation.rescue', 'Rescue instance', 'optional', ['virtplug rescue']),
  f('operation.resize', 'Resize instance', 'optional', ['virtplug resize']),
  f('operation.restore', 'Restore instance', 'optional', ['virtplug start'], 'Power a stopped instance back on.'),
  f('operation.service-control', 'Service control', 'optional'),
  f('operation.set-admin-password', 'Set instance admin password', 'optional'),
  f('operation.snapshot', 'Save snapshot of instance disk', 'optional', ['virtplug snapshot']),
  f('operation.suspend', 'Suspend instance', 'optional', ['virtplug suspend']),
  f('operation.swap-volume', 'Swap block volumes', 'optional'),
  f('operation.terminate', 'Shutdown instance', 'mandatory', ['virtplug delete']),
  f('operation.unpause', 'Resume instance CPUs', 'optional', ['virtplug unpause']),
  f('operation.resume', 'Resume instance from suspension', 'optional', ['virtplug resume']),
  f('guest.disk.autoconfigure', 'Auto configure disk', 'optional'),
  f('guest.disk.rate-limit', 'Instance disk I/O limits', 'optional'),
  f('guest.setup.configdrive', 'Config drive support', 'choice(guest.setup)'),
  f('guest.setup.inject.file', 'Inject files into disk image', 'optional'),
  f('guest.setup.inject.networking', 'Inject guest networking config', 'optional'),
  f('console.rdp', 'Remote desktop over RDP', 'choice(console)', ['virtplug console --type rdp']),
  f('console.serial.log', 'View serial console logs', 'choice(console)', ['virtplug console --type serial']),
  f('console.spice', 'Remote desktop over SPICE', 'choice(console)', ['virtplug console --type spice']),
  f('console.vnc', 'Remote desktop over VNC', 'choice(console)', ['virtplug console --type vnc']),
  f('storage.block', 'Block storage support', 'optional', ['virtplug volume-attach']),
  f('storage.block.backend.fibrechannel', 'Block storage over fibre channel', 'optional'),
  f('storage.block.backend.iscsi', 'Block storage over iSCSI', 'condition(storage.block==complete)'),
  f('storage.block.backend.iscsi.auth.chap', 'CHAP authentication for iSCSI', 'optional'),
  f('storage.image', 'Image storage support', 'mandatory', ['virtplug boot --image']),
  f('networking.firewallrules', 'Network firewall rules', 'optional'),
  f('networking.routing', 'Network routing', 'optional'),
  f('networking.securitygroups', 'Network security groups', 'optional'),
  f('networking.topology.flat', 'Flat networking', 'choice(networking.topology)'),
  f('networking.topology.vlan', 'VLAN networking', 'choice(networking.topology)'),
  f('vms.bless', 'Bless a running instance into a live image', 'optional', ['virtplug bless']),
  f('vms.launch', 'Launch clones from a live image', 'optional', ['virtplug launch']),
  f('vms.launch.params', 'Pass guest params to launched clones', 'optional', ['virtplug launch --params']),
  f('vms.launch.target', 'Host-side memory target for clones', 'optional', ['virtplug launch --target']),
  f('vms.list', 'List blessed and launched instances', 'optional', ['virtplug list-blessed', 'virtplug list-launched']),
  f('vms.discard', 'Discard a live image', 'optional', ['virtplug discard']),
  f('vms.migrate', 'Live migrate between hosts (gc-migrate)', 'optional', ['virtplug gc-migrate']),
  f('vms.cow-memory', 'Copy-on-write memory sharing between clones', 'optional'),
  f('iohyp.route-volume', 'Route volumes through an I/O hypervisor', 'optional', ['virtplug volume-attach']),
  f('iohyp.segment.vlan', 'I/O hypervisor on VLAN segments', 'optional'),
  f('iohyp.segment.vxlan', 'I/O hypervisor on VXLAN segments', 'optional'),
  f('cloudlet.base', 'Cloudlet base VMs (import, export, resume)', 'optional', ['virtplug cloudlet import-base']),
  f('cloudlet.overlay', 'Cloudlet VM overlays', 'optional', ['virtplug cloudlet create-overlay']),
  f('cloudlet.synthesis', 'VM synthesis from an overlay URL', 'optional', ['virtplug cloudlet synthesis']),
  f('cloudlet.handoff', 'VM handoff to another cloudlet', 'optional', ['virtplug cloudlet handoff']),
]);

export type FeatureId = string;

const byId = new Map(FEATURES.map((x) => [x.id, x]));

export function getFeature(id: FeatureId): Feature | undefined {
  return byId.get(id);
}

export function isFeatureId(id: string): boolean {
  return byId.has(id);
}
