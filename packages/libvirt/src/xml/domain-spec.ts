/**
 * The typed model of the domain XML this driver generates. It covers what we write, not all of
 * libvirt's schema: anything else in a domain's XML is carried along untouched by the tree edits in
 * tree.ts. `buildDomainXml` turns a spec into XML; `readDomainSpec` reads one back.
 */
export type DomainType = 'qemu' | 'kvm' | 'xen' | 'test';

export interface OsSpec {
  arch?: string;
  /** QEMU machine type (`pc`, `q35`); libvirt expands it (`pc-i440fx-7.2`). */
  machine?: string;
  /** Direct kernel boot. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

export interface FileDiskSpec {
  kind: 'file';
  path: string;
  format: 'qcow2' | 'raw';
  /** Guest device name: vda, vdb, … */
  target: string;
  bus?: 'virtio' | 'scsi' | 'sata' | 'ide';
  /** Shown to the guest (/sys/block/vdX/serial); at most 20 characters of [A-Za-z0-9_.+-]. */
  serial?: string;
  readonly?: boolean;
  cache?: 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
}

export interface NetworkDiskSpec {
  kind: 'network';
  protocol: 'nbd' | 'iscsi';
  /** NBD export name, or `<target IQN>/<LUN>` for iSCSI. */
  sourceName?: string;
  hosts: Array<{ name: string; port: number }>;
  /** iSCSI CHAP: the password lives in a libvirt secret found by its usage name, never in the XML. */
  auth?: { username: string; secretUsage: string };
  initiatorIqn?: string;
  format: 'raw' | 'qcow2';
  target: string;
  bus?: 'virtio' | 'scsi';
  serial?: string;
  readonly?: boolean;
  cache?: FileDiskSpec['cache'];
}

export type DiskSpec = FileDiskSpec | NetworkDiskSpec;

interface InterfaceBase {
  mac?: string;
  model?: string;
  /** Host-side device name (tap). */
  devName?: string;
}
export type InterfaceSpec =
  | (InterfaceBase & { kind: 'network'; network: string })
  | (InterfaceBase & { kind: 'bridge'; bridge: string; openvswitch?: boolean; vlanTag?: number })
  | (InterfaceBase & { kind: 'user' });

/** A VNC or SPICE console: where it listens, its password, and a fixed port (autoport otherwise). */
export interface GraphicsSpec {
  listen: string;
  password?: string;
  port?: number;
}

export interface DomainSpec {
  type: DomainType;
  name: string;
  uuid: string;
  memoryKb: number;
  currentMemoryKb?: number;
  vcpus: number;
  os: OsSpec;
  /** `none` leaves libvirt's default CPU model (the only one that works under TCG on these machines). */
  cpuMode?: 'none' | 'host-model' | 'host-passthrough';
  emulator?: string;
  disks: DiskSpec[];
  interfaces: InterfaceSpec[];
  /** Serial console written to this file (also the `<console>`). */
  serialLog?: string;
  /** The guest agent's virtio-serial channel, a unix socket libvirt binds at this path. */
  agentSocket?: string;
  vnc?: GraphicsSpec;
  /** SPICE (Nova's [spice]); its password has no 8-character limit, unlike VNC's. */
  spice?: GraphicsSpec;
  memballoon?: boolean;
  onPoweroff?: 'destroy' | 'restart' | 'preserve';
  onReboot?: 'destroy' | 'restart' | 'preserve';
  onCrash?: 'destroy' | 'restart' | 'preserve' | 'coredump-destroy';
}

export const AGENT_CHANNEL_NAME = 'org.virtplug.agent.0';
/** Ports of the virtio-serial controller that carries the agent channel (see build.ts). */
export const VIRTIO_SERIAL_PORTS = 4;
