import {
  AbstractComputeDriver,
  FEATURE_OPERATIONS,
  type CapabilityDeclarations,
  type ComputeOperation,
  type ConsoleInfo,
  type DestroyOptions,
  type Flavor,
  type GuestAgentAccess,
  type GuestAgentClient,
  type HostInfo,
  type HostResources,
  type ImageMeta,
  type Instance,
  type InstanceInfo,
  type InstanceRef,
  type LifecycleListener,
  type MemoryImages,
  type PowerOffOptions,
  type ProbeResult,
  type RebootType,
  type RescueOptions,
  type SnapshotOptions,
  type SpawnOptions,
  type VmStreaming,
  type VolumeConnectionInfo,
  type VolumeConnector,
} from '@virtplug/core';
import { capabilitiesFor } from './capabilities.js';
import { getConsoleOutput, getSpiceConsole, getVncConsole } from './consoles/consoles.js';
import type { LibvirtDriverDeps } from './context.js';
import { buildDeps, type BuildDepsOptions } from './deps.js';
import * as host from './host/host.js';
import { destroy } from './lifecycle/destroy.js';
import * as power from './lifecycle/power.js';
import { rescue, unrescue } from './lifecycle/rescue.js';
import { resize } from './lifecycle/resize.js';
import { snapshot } from './lifecycle/snapshot.js';
import { spawn } from './lifecycle/spawn.js';
import { probeConnection } from './probe.js';
import { setAdminPassword } from './lifecycle/admin-password.js';
import { attachVolume, detachVolume } from './volumes/attach.js';
import { swapVolume } from './volumes/swap.js';
import { attachVms } from './vms/attach.js';

export type LibvirtDriverOptions = Omit<BuildDepsOptions, 'emit' | 'driverName'>;

/**
 * Nova's LibvirtDriver over libvirtd (QEMU/KVM, Xen) or libvirt's test driver. A table of contents:
 * each operation is one call into the folders beside it, with `deps` (see context.ts) as their state.
 */
export class LibvirtDriver extends AbstractComputeDriver implements GuestAgentAccess {
  readonly name = 'libvirt';
  readonly capabilities: CapabilityDeclarations;
  private readonly deps: LibvirtDriverDeps;
  /** VM streaming (core's VmStreaming / MemoryImages), built by src/vms/ from internals(). */
  vms?: VmStreaming;
  memoryImages?: MemoryImages;

  constructor(options: LibvirtDriverOptions) {
    super();
    this.deps = buildDeps({ ...options, driverName: this.name, emit: (i, t) => this.emit(i, t) });
    this.capabilities = capabilitiesFor(this.deps.uri.perConnectionState);
    // [vms] wiring point: the VM streaming owner assigns this.vms and this.memoryImages here (one or two lines).
    if (this.deps.uri.driver === 'qemu') attachVms(this);
  }

  /** The shared pieces, for code that extends this driver inside @virtplug/libvirt (src/vms/). */
  internals(): LibvirtDriverDeps {
    return this.deps;
  }

  /** Runs a state-changing operation; the event poll leaves the instance alone meanwhile. */
  private op<T>(i: InstanceRef, fn: () => Promise<T>): Promise<T> {
    return this.deps.events.during(i, fn);
  }

  /** Refuses operations this connection cannot do (declared `missing`), before touching libvirt. */
  private guard(op: ComputeOperation): void {
    for (const [feature, ops] of Object.entries(FEATURE_OPERATIONS)) {
      const cell = this.capabilities[feature];
      if (ops.includes(op) && (!cell || cell.status === 'missing')) this.unsupported(op, cell?.notes ?? `not available on ${this.deps.uri.uri}`);
    }
  }

  // host
  override async init(): Promise<void> { await this.deps.transport.open(); }
  override async close(): Promise<void> {
    this.deps.events.stop();
    await this.deps.agents.closeAll();
    await this.deps.transport.close();
  }
  override probe(): Promise<ProbeResult> { return probeConnection(this.deps.transport, this.deps.versions); }
  override getAvailableResource(): Promise<HostResources> { return host.getAvailableResource(this.deps); }
  override getHostInfo(): Promise<HostInfo> { return host.getHostInfo(this.deps); }
  override getHostUptime(): Promise<number> { return host.getHostUptime(this.deps); }
  override async getHostIpAddr(): Promise<string> { return this.deps.myIp(); }

  // inventory
  override getInfo(i: InstanceRef): Promise<InstanceInfo> { return this.deps.domains.instanceInfo(i); }
  override async listInstances(): Promise<string[]> { return (await this.deps.domains.listManaged()).map((d) => d.name); }
  override async listInstanceUuids(): Promise<string[]> { return (await this.deps.domains.listManaged()).map((d) => d.uuid); }
  override async listInstanceRefs(): Promise<InstanceRef[]> { return this.deps.domains.listManaged(); }
  override findInstance(idOrName: string): Promise<InstanceRef | undefined> { return this.deps.domains.findManaged(idOrName); }
  override async instanceExists(i: InstanceRef): Promise<boolean> { return (await this.deps.transport.find(this.deps.xml.validateUuid(i.uuid))) !== null; }

  // lifecycle
  override spawn(i: Instance, image: ImageMeta, o?: SpawnOptions): Promise<InstanceInfo> { return this.op(i, () => spawn(this.deps, i, image, o)); }
  override destroy(i: InstanceRef, o?: DestroyOptions): Promise<void> { return this.op(i, () => destroy(this.deps, i, o)); }
  override async reboot(i: InstanceRef, type: RebootType): Promise<void> { this.guard('reboot'); return this.op(i, () => power.reboot(this.deps, i, type)); }
  override async powerOff(i: InstanceRef, o?: PowerOffOptions): Promise<void> { return this.op(i, () => power.powerOff(this.deps, i, o)); }
  override async powerOn(i: InstanceRef): Promise<void> { this.guard('powerOn'); return this.op(i, () => power.powerOn(this.deps, i)); }
  override async pause(i: InstanceRef): Promise<void> { this.guard('pause'); return this.op(i, () => power.pause(this.deps, i)); }
  override async unpause(i: InstanceRef): Promise<void> { this.guard('unpause'); return this.op(i, () => power.unpause(this.deps, i)); }
  override async suspend(i: InstanceRef): Promise<void> { this.guard('suspend'); return this.op(i, () => power.suspend(this.deps, i)); }
  override async resume(i: InstanceRef): Promise<void> { this.guard('resume'); return this.op(i, () => power.resume(this.deps, i)); }
  override async rescue(i: InstanceRef, o?: RescueOptions): Promise<void> { this.guard('rescue'); return this.op(i, () => rescue(this.deps, i, o)); }
  override async unrescue(i: InstanceRef): Promise<void> { this.guard('unrescue'); return this.op(i, () => unrescue(this.deps, i)); }
  override async resize(i: InstanceRef, f: Flavor): Promise<void> { this.guard('resize'); return this.op(i, () => resize(this.deps, i, f)); }
  override async snapshot(i: InstanceRef, o: SnapshotOptions): Promise<ImageMeta> { this.guard('snapshot'); return this.op(i, () => snapshot(this.deps, i, o)); }
  override async setAdminPassword(i: InstanceRef, password: string): Promise<void> { this.guard('setAdminPassword'); return setAdminPassword(this.deps, i, password); }

  // volumes
  override async attachVolume(i: InstanceRef, ci: VolumeConnectionInfo, m: string): Promise<void> { this.guard('attachVolume'); return attachVolume(this.deps, i, ci, m); }
  override async detachVolume(i: InstanceRef, ci: VolumeConnectionInfo, m: string): Promise<void> { this.guard('detachVolume'); return detachVolume(this.deps, i, ci, m); }
  override async swapVolume(i: InstanceRef, o: VolumeConnectionInfo, n: VolumeConnectionInfo, m: string): Promise<void> { this.guard('swapVolume'); return swapVolume(this.deps, i, o, n, m); }
  override async getVolumeConnector(_i: InstanceRef): Promise<VolumeConnector> { return host.getVolumeConnector(this.deps); }

  // consoles
  override async getVncConsole(i: InstanceRef): Promise<ConsoleInfo> { this.guard('getVncConsole'); return getVncConsole(this.deps, i); }
  override async getSpiceConsole(i: InstanceRef): Promise<ConsoleInfo> { this.guard('getSpiceConsole'); return getSpiceConsole(this.deps, i); }
  override async getConsoleOutput(i: InstanceRef): Promise<string> { this.guard('getConsoleOutput'); return getConsoleOutput(this.deps, i); }

  // guest agent (core's GuestAgentAccess)
  guestAgent(i: InstanceRef): GuestAgentClient { return this.deps.agentFor(i); }

  // events: libvirt is polled only while someone listens
  override onLifecycleEvent(listener: LifecycleListener): () => void {
    const off = super.onLifecycleEvent(listener);
    this.deps.events.start();
    return off;
  }
}
