import type { CapabilityDeclarations } from '../capabilities/declarations.js';
import { UnsupportedOperationError } from '../errors.js';
import type {
  ConsoleInfo,
  Flavor,
  HostInfo,
  HostResources,
  ImageMeta,
  Instance,
  InstanceInfo,
  InstanceRef,
  LifecycleEvent,
  LifecycleListener,
  LifecycleTransition,
  NetworkInfo,
  ProbeResult,
  VolumeConnectionInfo,
  VolumeConnector,
} from '../model/index.js';
import type {
  ComputeDriver,
  DestroyOptions,
  PowerOffOptions,
  RebootType,
  RescueOptions,
  SnapshotOptions,
  SpawnOptions,
} from './compute-driver.js';

/**
 * The base every driver extends (Nova's ComputeDriver, libcloud's NodeDriver): each operation throws
 * UnsupportedOperationError until a driver overrides it, and lifecycle event plumbing is shared.
 */
export abstract class AbstractComputeDriver implements ComputeDriver {
  abstract readonly name: string;
  abstract readonly capabilities: CapabilityDeclarations;
  private readonly listeners = new Set<LifecycleListener>();

  protected unsupported(operation: string, reason?: string): never {
    throw new UnsupportedOperationError(this.name, operation, reason);
  }

  onLifecycleEvent(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(instance: InstanceRef, transition: LifecycleTransition): void {
    const event: LifecycleEvent = { uuid: instance.uuid, name: instance.name, transition, timestamp: Date.now() };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not turn a successful operation into a failed one.
      }
    }
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}
  async probe(): Promise<ProbeResult> {
    return { usable: true, reason: 'no probe implemented' };
  }

  async getAvailableResource(): Promise<HostResources> { return this.unsupported('getAvailableResource'); }
  async getHostInfo(): Promise<HostInfo> { return this.unsupported('getHostInfo'); }
  async getHostUptime(): Promise<number> { return this.unsupported('getHostUptime'); }
  async getHostIpAddr(): Promise<string> { return this.unsupported('getHostIpAddr'); }

  async getInfo(_instance: InstanceRef): Promise<InstanceInfo> { return this.unsupported('getInfo'); }
  async listInstances(): Promise<string[]> { return this.unsupported('listInstances'); }
  async listInstanceUuids(): Promise<string[]> { return this.unsupported('listInstanceUuids'); }
  async listInstanceRefs(): Promise<InstanceRef[]> { return this.unsupported('listInstanceRefs'); }
  async findInstance(idOrName: string): Promise<InstanceRef | undefined> {
    const refs = await this.listInstanceRefs();
    return refs.find((r) => r.uuid === idOrName) ?? refs.find((r) => r.name === idOrName);
  }
  async instanceExists(instance: InstanceRef): Promise<boolean> {
    // Nova's default: by uuid where the driver lists uuids, by name otherwise.
    try {
      return (await this.listInstanceUuids()).includes(instance.uuid);
    } catch (e) {
      if (!(e instanceof UnsupportedOperationError)) throw e;
      return (await this.listInstances()).includes(instance.name);
    }
  }

  async spawn(_i: Instance, _image: ImageMeta, _o?: SpawnOptions): Promise<InstanceInfo> { return this.unsupported('spawn'); }
  async destroy(_i: InstanceRef, _o?: DestroyOptions): Promise<void> { return this.unsupported('destroy'); }
  async reboot(_i: InstanceRef, _type: RebootType): Promise<void> { return this.unsupported('reboot'); }
  async powerOff(_i: InstanceRef, _o?: PowerOffOptions): Promise<void> { return this.unsupported('powerOff'); }
  async powerOn(_i: InstanceRef): Promise<void> { return this.unsupported('powerOn'); }
  async pause(_i: InstanceRef): Promise<void> { return this.unsupported('pause'); }
  async unpause(_i: InstanceRef): Promise<void> { return this.unsupported('unpause'); }
  async suspend(_i: InstanceRef): Promise<void> { return this.unsupported('suspend'); }
  async resume(_i: InstanceRef): Promise<void> { return this.unsupported('resume'); }
  async rescue(_i: InstanceRef, _o?: RescueOptions): Promise<void> { return this.unsupported('rescue'); }
  async unrescue(_i: InstanceRef): Promise<void> { return this.unsupported('unrescue'); }
  async resize(_i: InstanceRef, _f: Flavor): Promise<void> { return this.unsupported('resize'); }
  async snapshot(_i: InstanceRef, _o: SnapshotOptions): Promise<ImageMeta> { return this.unsupported('snapshot'); }
  async setAdminPassword(_i: InstanceRef, _p: string): Promise<void> { return this.unsupported('setAdminPassword'); }

  async attachVolume(_i: InstanceRef, _c: VolumeConnectionInfo, _m: string): Promise<void> { return this.unsupported('attachVolume'); }
  async detachVolume(_i: InstanceRef, _c: VolumeConnectionInfo, _m: string): Promise<void> { return this.unsupported('detachVolume'); }
  async swapVolume(_i: InstanceRef, _o: VolumeConnectionInfo, _n: VolumeConnectionInfo, _m: string): Promise<void> {
    return this.unsupported('swapVolume');
  }
  async getVolumeConnector(_i: InstanceRef): Promise<VolumeConnector> { return this.unsupported('getVolumeConnector'); }

  async getVncConsole(_i: InstanceRef): Promise<ConsoleInfo> { return this.unsupported('getVncConsole'); }
  async getRdpConsole(_i: InstanceRef): Promise<ConsoleInfo> { return this.unsupported('getRdpConsole'); }
  async getSpiceConsole(_i: InstanceRef): Promise<ConsoleInfo> { return this.unsupported('getSpiceConsole'); }
  async getConsoleOutput(_i: InstanceRef): Promise<string> { return this.unsupported('getConsoleOutput'); }

  async plugVifs(_i: InstanceRef, _n: NetworkInfo): Promise<void> { return this.unsupported('plugVifs'); }
  async unplugVifs(_i: InstanceRef, _n: NetworkInfo): Promise<void> { return this.unsupported('unplugVifs'); }
}
