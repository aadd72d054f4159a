import {
  hasGuestAgent,
  hasMemoryImages,
  hasVmStreaming,
  type ComputeDriver,
  type ConsoleInfo,
  type DestroyOptions,
  type Flavor,
  type HostInfo,
  type HostResources,
  type ImageMeta,
  type Instance,
  type InstanceInfo,
  type InstanceRef,
  type LifecycleListener,
  type NetworkInfo,
  type PowerOffOptions,
  type ProbeResult,
  type RebootType,
  type RescueOptions,
  type SnapshotOptions,
  type SpawnOptions,
  type VolumeConnectionInfo,
  type VolumeConnector,
} from '@virtplug/core';

/**
 * A driver that forwards every operation to the driver it wraps, extensions included (guest agent,
 * VMS, memory images), so wrapping changes nothing until a subclass overrides an operation.
 */
export abstract class DelegatingDriver implements ComputeDriver {
  abstract readonly name: string;
  abstract readonly capabilities: ComputeDriver['capabilities'];

  constructor(readonly inner: ComputeDriver) {
    if (hasGuestAgent(inner)) Object.defineProperty(this, 'guestAgent', { value: (i: InstanceRef) => inner.guestAgent(i), enumerable: false });
    if (hasVmStreaming(inner)) Object.defineProperty(this, 'vms', { get: () => inner.vms, enumerable: false });
    if (hasMemoryImages(inner)) Object.defineProperty(this, 'memoryImages', { get: () => inner.memoryImages, enumerable: false });
  }

  init(): Promise<void> { return this.inner.init(); }
  close(): Promise<void> { return this.inner.close(); }
  probe(): Promise<ProbeResult> { return this.inner.probe(); }
  getAvailableResource(): Promise<HostResources> { return this.inner.getAvailableResource(); }
  getHostInfo(): Promise<HostInfo> { return this.inner.getHostInfo(); }
  getHostUptime(): Promise<number> { return this.inner.getHostUptime(); }
  getHostIpAddr(): Promise<string> { return this.inner.getHostIpAddr(); }

  getInfo(i: InstanceRef): Promise<InstanceInfo> { return this.inner.getInfo(i); }
  listInstances(): Promise<string[]> { return this.inner.listInstances(); }
  listInstanceUuids(): Promise<string[]> { return this.inner.listInstanceUuids(); }
  listInstanceRefs(): Promise<InstanceRef[]> { return this.inner.listInstanceRefs(); }
  findInstance(idOrName: string): Promise<InstanceRef | undefined> { return this.inner.findInstance(idOrName); }
  instanceExists(i: InstanceRef): Promise<boolean> { return this.inner.instanceExists(i); }

  spawn(i: Instance, image: ImageMeta, o?: SpawnOptions): Promise<InstanceInfo> { return this.inner.spawn(i, image, o); }
  destroy(i: InstanceRef, o?: DestroyOptions): Promise<void> { return this.inner.destroy(i, o); }
  reboot(i: InstanceRef, type: RebootType): Promise<void> { return this.inner.reboot(i, type); }
  powerOff(i: InstanceRef, o?: PowerOffOptions): Promise<void> { return this.inner.powerOff(i, o); }
  powerOn(i: InstanceRef): Promise<void> { return this.inner.powerOn(i); }
  pause(i: InstanceRef): Promise<void> { return this.inner.pause(i); }
  unpause(i: InstanceRef): Promise<void> { return this.inner.unpause(i); }
  suspend(i: InstanceRef): Promise<void> { return this.inner.suspend(i); }
  resume(i: InstanceRef): Promise<void> { return this.inner.resume(i); }
  rescue(i: InstanceRef, o?: RescueOptions): Promise<void> { return this.inner.rescue(i, o); }
  unrescue(i: InstanceRef): Promise<void> { return this.inner.unrescue(i); }
  resize(i: InstanceRef, f: Flavor): Promise<void> { return this.inner.resize(i, f); }
  snapshot(i: InstanceRef, o: SnapshotOptions): Promise<ImageMeta> { return this.inner.snapshot(i, o); }
  setAdminPassword(i: InstanceRef, p: string): Promise<void> { return this.inner.setAdminPassword(i, p); }

  attachVolume(i: InstanceRef, c: VolumeConnectionInfo, m: string): Promise<void> { return this.inner.attachVolume(i, c, m); }
  detachVolume(i: InstanceRef, c: VolumeConnectionInfo, m: string): Promise<void> { return this.inner.detachVolume(i, c, m); }
  swapVolume(i: InstanceRef, o: VolumeConnectionInfo, n: VolumeConnectionInfo, m: string): Promise<void> { return this.inner.swapVolume(i, o, n, m); }
  getVolumeConnector(i: InstanceRef): Promise<VolumeConnector> { return this.inner.getVolumeConnector(i); }

  getVncConsole(i: InstanceRef): Promise<ConsoleInfo> { return this.inner.getVncConsole(i); }
  getRdpConsole(i: InstanceRef): Promise<ConsoleInfo> { return this.inner.getRdpConsole(i); }
  getSpiceConsole(i: InstanceRef): Promise<ConsoleInfo> { return this.inner.getSpiceConsole(i); }
  getConsoleOutput(i: InstanceRef): Promise<string> { return this.inner.getConsoleOutput(i); }

  plugVifs(i: InstanceRef, n: NetworkInfo): Promise<void> { return this.inner.plugVifs(i, n); }
  unplugVifs(i: InstanceRef, n: NetworkInfo): Promise<void> { return this.inner.unplugVifs(i, n); }

  onLifecycleEvent(listener: LifecycleListener): () => void { return this.inner.onLifecycleEvent(listener); }
}
