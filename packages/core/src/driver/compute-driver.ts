import type { CapabilityDeclarations } from '../capabilities/declarations.js';
import type {
  ConsoleInfo,
  Flavor,
  HostInfo,
  HostResources,
  ImageMeta,
  Instance,
  InstanceInfo,
  InstanceRef,
  LifecycleListener,
  NetworkInfo,
  ProbeResult,
  VolumeConnectionInfo,
  VolumeConnector,
} from '../model/index.js';

export interface SpawnOptions {
  /** Leave the instance defined but stopped (Nova `power_on=False`). */
  powerOn?: boolean;
  networkInfo?: NetworkInfo;
  /** Passed to the guest at first boot where the driver can (kernel cmdline, config drive). */
  userData?: string;
}

export interface DestroyOptions {
  /** Default true: remove the instance's disks with it. */
  destroyDisks?: boolean;
}

export interface PowerOffOptions {
  /** > 0: ask the guest to shut down and wait this long before pulling the plug (Nova semantics). */
  timeoutSec?: number;
  /** Re-send the shutdown request this often while waiting. */
  retryIntervalSec?: number;
}

export interface SnapshotOptions {
  imageName: string;
  /** Where to write the exported image; drivers pick one under their images path otherwise. */
  path?: string;
  onProgress?: (fraction: number) => void;
}

export interface RescueOptions {
  image?: ImageMeta;
  rescuePassword?: string;
}

export type RebootType = 'SOFT' | 'HARD';

/**
 * Nova's ComputeDriver, as async TypeScript. Every operation exists on every driver; the ones a driver
 * cannot do throw UnsupportedOperationError (see AbstractComputeDriver), and its capability declarations
 * say so up front.
 */
export interface ComputeDriver {
  readonly name: string;
  readonly capabilities: CapabilityDeclarations;

  // host
  init(): Promise<void>;
  close(): Promise<void>;
  probe(): Promise<ProbeResult>;
  getAvailableResource(): Promise<HostResources>;
  getHostInfo(): Promise<HostInfo>;
  getHostUptime(): Promise<number>;
  getHostIpAddr(): Promise<string>;

  // inventory
  getInfo(instance: InstanceRef): Promise<InstanceInfo>;
  listInstances(): Promise<string[]>;
  listInstanceUuids(): Promise<string[]>;
  /** Name and uuid of each instance, so callers can address one by either. */
  listInstanceRefs(): Promise<InstanceRef[]>;
  /** Finds an instance by uuid or name; undefined when there is none. */
  findInstance(idOrName: string): Promise<InstanceRef | undefined>;
  instanceExists(instance: InstanceRef): Promise<boolean>;

  // lifecycle
  spawn(instance: Instance, image: ImageMeta, options?: SpawnOptions): Promise<InstanceInfo>;
  destroy(instance: InstanceRef, options?: DestroyOptions): Promise<void>;
  reboot(instance: InstanceRef, type: RebootType): Promise<void>;
  powerOff(instance: InstanceRef, options?: PowerOffOptions): Promise<void>;
  powerOn(instance: InstanceRef): Promise<void>;
  pause(instance: InstanceRef): Promise<void>;
  unpause(instance: InstanceRef): Promise<void>;
  suspend(instance: InstanceRef): Promise<void>;
  resume(instance: InstanceRef): Promise<void>;
  rescue(instance: InstanceRef, options?: RescueOptions): Promise<void>;
  unrescue(instance: InstanceRef): Promise<void>;
  resize(instance: InstanceRef, flavor: Flavor): Promise<void>;
  snapshot(instance: InstanceRef, options: SnapshotOptions): Promise<ImageMeta>;
  setAdminPassword(instance: InstanceRef, password: string): Promise<void>;

  // volumes
  attachVolume(instance: InstanceRef, connectionInfo: VolumeConnectionInfo, mountpoint: string): Promise<void>;
  detachVolume(instance: InstanceRef, connectionInfo: VolumeConnectionInfo, mountpoint: string): Promise<void>;
  swapVolume(
    instance: InstanceRef,
    oldConnectionInfo: VolumeConnectionInfo,
    newConnectionInfo: VolumeConnectionInfo,
    mountpoint: string,
  ): Promise<void>;
  getVolumeConnector(instance: InstanceRef): Promise<VolumeConnector>;

  // consoles
  getVncConsole(instance: InstanceRef): Promise<ConsoleInfo>;
  getRdpConsole(instance: InstanceRef): Promise<ConsoleInfo>;
  getSpiceConsole(instance: InstanceRef): Promise<ConsoleInfo>;
  getConsoleOutput(instance: InstanceRef): Promise<string>;

  // networking
  plugVifs(instance: InstanceRef, networkInfo: NetworkInfo): Promise<void>;
  unplugVifs(instance: InstanceRef, networkInfo: NetworkInfo): Promise<void>;

  // events
  onLifecycleEvent(listener: LifecycleListener): () => void;
}

/** The operation names of ComputeDriver, used by the contract kit and the CLI. */
export type ComputeOperation = Exclude<keyof ComputeDriver, 'name' | 'capabilities'>;
