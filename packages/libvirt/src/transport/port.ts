/**
 * The one interface the driver talks to libvirt through. Domains are addressed by UUID (the instance
 * UUID is the domain UUID), so adapters never hand out native handles. Every method maps failures to
 * core errors (see errors.ts); none returns libvirt error objects.
 */

/** virDomainState, as libvirt numbers it. */
export enum DomainState {
  NOSTATE = 0,
  RUNNING = 1,
  BLOCKED = 2,
  PAUSED = 3,
  SHUTDOWN = 4,
  SHUTOFF = 5,
  CRASHED = 6,
  PMSUSPENDED = 7,
}

export interface DomainRef {
  uuid: string;
  name: string;
}

export interface DomainInfo {
  state: DomainState;
  maxMemKb: number;
  memKb: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface NodeInfo {
  model: string;
  memoryKb: number;
  cpus: number;
  mhz: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface Versions {
  /** The libvirt library, e.g. 9.0.0. */
  libvirt: string;
  /** The hypervisor as libvirt names it (QEMU, Xen, TEST) and its version. */
  hypervisorType: string;
  hypervisorVersion: string;
}

/** virsh's --live/--config/--current selection for device and metadata changes. */
export interface ChangeScope {
  live?: boolean;
  config?: boolean;
}

export interface UndefineOptions {
  /** Also remove a managed-save image, snapshot metadata and NVRAM (otherwise libvirt refuses). */
  removeAll?: boolean;
}

export interface MigrateOptions {
  live?: boolean;
  /** Data-channel URI (`tcp://10.77.0.2`). */
  migrateUri?: string;
  persistent?: boolean;
  undefineSource?: boolean;
  copyStorage?: 'all' | 'inc';
  timeoutMs?: number;
}

/** `virsh blockcopy` of one disk onto a destination described by disk XML (Nova's swap_volume copy). */
export interface BlockCopyOptions {
  /** The destination exists (a volume): libvirt must neither create nor format it. */
  reuseExternal?: boolean;
  /** Needed on a persistent domain: the job is not recoverable across a libvirtd restart. */
  transientJob?: boolean;
  /** Switch the disk to the copy once in sync (true), or finish and keep the source (false). */
  pivot?: boolean;
  /** libvirt aborts the copy after this long (the disk stays on its source). */
  timeoutMs?: number;
}

export interface SecretSpec {
  /** `usage` name for an iSCSI secret; what disk XML refers to. */
  usage: string;
  description: string;
}

export interface LibvirtTransport {
  readonly uri: string;

  // connection and host
  open(): Promise<void>;
  close(): Promise<void>;
  hostname(): Promise<string>;
  nodeInfo(): Promise<NodeInfo>;
  versions(): Promise<Versions>;

  // inventory
  listDomains(): Promise<DomainRef[]>;
  /** UUIDs of the domains that have a managed-save image (libvirt lists them shut off). */
  listManagedSave(): Promise<string[]>;
  lookup(uuid: string): Promise<DomainRef>;
  /** `null` where the domain does not exist (no error). */
  find(uuid: string): Promise<DomainRef | null>;
  lookupByName(name: string): Promise<DomainRef | null>;
  getInfo(uuid: string): Promise<DomainInfo>;
  /** `secure` includes passwords (VNC); `inactive` is the persistent config rather than the live one. */
  getXml(uuid: string, options?: { secure?: boolean; inactive?: boolean }): Promise<string>;

  // lifecycle
  define(xml: string): Promise<DomainRef>;
  undefine(uuid: string, options?: UndefineOptions): Promise<void>;
  start(uuid: string): Promise<void>;
  destroy(uuid: string): Promise<void>;
  shutdown(uuid: string): Promise<void>;
  suspend(uuid: string): Promise<void>;
  resume(uuid: string): Promise<void>;
  save(uuid: string, file: string): Promise<void>;
  restore(file: string, options?: { xml?: string; paused?: boolean }): Promise<void>;
  reboot(uuid: string): Promise<void>;
  reset(uuid: string): Promise<void>;
  managedSave(uuid: string, options?: { running?: boolean }): Promise<void>;
  managedSaveRemove(uuid: string): Promise<void>;

  // live changes
  setMemory(uuid: string, kib: number, scope: ChangeScope): Promise<void>;
  setMaxMemory(uuid: string, kib: number, scope: ChangeScope): Promise<void>;
  setVcpus(uuid: string, count: number, scope: ChangeScope & { maximum?: boolean }): Promise<void>;
  attachDevice(uuid: string, xml: string, scope: ChangeScope): Promise<void>;
  detachDevice(uuid: string, xml: string, scope: ChangeScope): Promise<void>;
  /** Sets (or with `xml: null` removes) our `<metadata>` element in the given namespace. */
  setMetadata(uuid: string, ns: { uri: string; key: string }, xml: string | null, scope: ChangeScope): Promise<void>;
  domifSetLink(uuid: string, iface: string, state: 'up' | 'down'): Promise<void>;
  memtune(uuid: string, params: Record<string, number>, scope: ChangeScope): Promise<void>;

  // snapshots, migration, monitoring
  snapshotCreateAs(uuid: string, name: string, options?: { diskOnly?: boolean; atomic?: boolean; noMetadata?: boolean; diskSpecs?: string[] }): Promise<void>;
  snapshotList(uuid: string): Promise<string[]>;
  snapshotRevert(uuid: string, name: string): Promise<void>;
  snapshotDelete(uuid: string, name: string, options?: { metadataOnly?: boolean }): Promise<void>;
  blockCommit(uuid: string, disk: string, options?: { active?: boolean; pivot?: boolean; timeoutMs?: number }): Promise<void>;
  /** Copies `disk` (a target like vdb) onto the disk `destXml` describes and waits for the end (see BlockCopyOptions). */
  blockCopy(uuid: string, disk: string, destXml: string, options?: BlockCopyOptions): Promise<void>;
  /** Cancels the disk's block job (a copy stays on its source); resolves if there is none. */
  blockJobAbort(uuid: string, disk: string): Promise<void>;
  migrate(uuid: string, destUri: string, options?: MigrateOptions): Promise<void>;
  domstats(uuid: string): Promise<Record<string, string>>;
  qemuMonitorCommand(uuid: string, command: Record<string, unknown>): Promise<unknown>;

  // secrets (iSCSI CHAP)
  secretDefine(spec: SecretSpec): Promise<string>;
  /** Reads the value from a file so it never appears in an argv or a log. */
  secretSetValueFromFile(secretUuid: string, file: string): Promise<void>;
  secretUndefine(secretUuid: string): Promise<void>;
  /** Secrets as `{uuid, usage}`. */
  secretList(): Promise<Array<{ uuid: string; usage: string }>>;
}

export type TransportMethod = Exclude<keyof LibvirtTransport, 'uri'>;
