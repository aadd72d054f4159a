import { randomUUID } from 'node:crypto';
import { declareCapabilities } from '../capabilities/declarations.js';
import { AbstractComputeDriver } from '../driver/abstract-driver.js';
import type { DestroyOptions, PowerOffOptions, RebootType, RescueOptions, SnapshotOptions, SpawnOptions } from '../driver/compute-driver.js';
import { ConflictError, InvalidArgumentError, InvalidStateError, NotFoundError, OperationFailedError } from '../errors.js';
import {
  PowerState,
  powerStateName,
  vmStateFor,
  type ConsoleInfo,
  type Flavor,
  type HostInfo,
  type HostResources,
  type ImageMeta,
  type Instance,
  type InstanceInfo,
  type InstanceRef,
  type VolumeConnectionInfo,
  type VolumeConnector,
} from '../model/index.js';

export const FAKE_CAPABILITIES = declareCapabilities({
  'operation.attach-volume': 'complete',
  'operation.detach-volume': 'complete',
  'operation.get-guest-info': 'complete',
  'operation.get-host-info': 'complete',
  'operation.launch': 'complete',
  'operation.pause': 'complete',
  'operation.unpause': 'complete',
  'operation.reboot': 'complete',
  'operation.rescue': 'complete',
  'operation.resize': 'complete',
  'operation.restore': 'complete',
  'operation.set-admin-password': 'complete',
  'operation.snapshot': 'complete',
  'operation.suspend': 'complete',
  'operation.resume': 'complete',
  'operation.swap-volume': 'complete',
  'operation.terminate': 'complete',
  'console.vnc': 'complete',
  'console.serial.log': 'complete',
  'storage.block': 'complete',
  'storage.block.backend.iscsi': 'complete',
  'storage.block.backend.iscsi.auth.chap': 'complete',
  'storage.image': 'complete',
  'networking.topology.flat': { status: 'partial', notes: 'VIFs are recorded, nothing is wired.' },
});

interface FakeInstance {
  ref: InstanceRef;
  flavor: Flavor;
  image: ImageMeta;
  state: PowerState;
  rescued: boolean;
  bootId: string;
  bootedAt: number;
  volumes: Map<string, VolumeConnectionInfo>;
  consoleLog: string[];
  adminPassword?: string;
  vncPort: number;
}

/**
 * Nova's FakeDriver: an in-memory hypervisor with real state rules, used by unit tests, by examples,
 * and as the reference the contract kit is checked against. Images whose `properties.fake_fail` is
 * `spawn` fail to spawn, for testing cleanup paths.
 */
export class FakeDriver extends AbstractComputeDriver {
  readonly name = 'fake';
  readonly capabilities = FAKE_CAPABILITIES;
  private readonly instances = new Map<string, FakeInstance>();
  private nextPort = 5900;
  private readonly startedAt = Date.now();

  override async getAvailableResource(): Promise<HostResources> {
    const used = [...this.instances.values()];
    return {
      vcpus: 64,
      memoryMb: 131072,
      localGb: 2048,
      vcpusUsed: used.reduce((n, i) => n + i.flavor.vcpus, 0),
      memoryMbUsed: used.reduce((n, i) => n + i.flavor.memoryMb, 0),
      localGbUsed: used.reduce((n, i) => n + i.flavor.rootGb, 0),
      hypervisorType: 'fake',
      hypervisorVersion: '1.0',
      hypervisorHostname: 'fake-host',
      cpuInfo: { model: 'fake' },
    };
  }

  override async getHostInfo(): Promise<HostInfo> {
    return { hostname: 'fake-host', hypervisorType: 'fake', hypervisorVersion: '1.0', versions: { fake: '1.0' }, cpus: 64, memoryMb: 131072 };
  }

  override async getHostUptime(): Promise<number> {
    return (Date.now() - this.startedAt) / 1000;
  }

  override async getHostIpAddr(): Promise<string> {
    return '127.0.0.1';
  }

  override async getInfo(ref: InstanceRef): Promise<InstanceInfo> {
    const i = this.get(ref);
    return {
      uuid: i.ref.uuid,
      name: i.ref.name,
      state: i.state,
      vmState: vmStateFor(i.state, i.rescued),
      maxMemKb: i.flavor.memoryMb * 1024,
      memKb: i.flavor.memoryMb * 1024,
      vcpus: i.flavor.vcpus,
      cpuTimeNs: i.state === PowerState.RUNNING ? (Date.now() - i.bootedAt) * 1e6 : 0,
    };
  }

  override async listInstances(): Promise<string[]> {
    return [...this.instances.values()].map((i) => i.ref.name);
  }

  override async listInstanceUuids(): Promise<string[]> {
    return [...this.instances.keys()];
  }

  override async listInstanceRefs(): Promise<InstanceRef[]> {
    return [...this.instances.values()].map((i) => ({ ...i.ref }));
  }

  override async spawn(instance: Instance, image: ImageMeta, options: SpawnOptions = {}): Promise<InstanceInfo> {
    if (!image.path) throw new InvalidArgumentError('image path', image.path, 'the path of a disk image');
    if (this.instances.has(instance.uuid) || [...this.instances.values()].some((i) => i.ref.name === instance.name)) {
      throw new ConflictError(`Instance ${instance.name} (${instance.uuid}) already exists; destroy it first or pick another name.`);
    }
    if (image.properties?.fake_fail === 'spawn') {
      throw new OperationFailedError(`Failed to spawn instance ${instance.name}: image ${image.id} is marked to fail.`);
    }
    const state = options.powerOn === false ? PowerState.SHUTDOWN : PowerState.RUNNING;
    this.instances.set(instance.uuid, {
      ref: { uuid: instance.uuid, name: instance.name },
      flavor: instance.flavor,
      image,
      state,
      rescued: false,
      bootId: randomUUID(),
      bootedAt: Date.now(),
      volumes: new Map(),
      consoleLog: [`booting ${instance.name}`],
      vncPort: this.nextPort++,
      ...(instance.adminPassword ? { adminPassword: instance.adminPassword } : {}),
    });
    if (state === PowerState.RUNNING) this.emit(instance, 'STARTED');
    return this.getInfo(instance);
  }

  override async destroy(ref: InstanceRef, _options?: DestroyOptions): Promise<void> {
    // Nova: destroying an instance that is already gone succeeds.
    if (this.instances.delete(ref.uuid)) this.emit(ref, 'STOPPED');
  }

  override async reboot(ref: InstanceRef, type: RebootType): Promise<void> {
    const i = this.get(ref);
    if (type === 'SOFT') this.require(i, 'reboot', PowerState.RUNNING);
    i.state = PowerState.RUNNING;
    i.bootId = randomUUID();
    i.bootedAt = Date.now();
    i.consoleLog.push(`rebooted (${type.toLowerCase()})`);
    this.emit(ref, 'STARTED');
  }

  override async powerOff(ref: InstanceRef, _options?: PowerOffOptions): Promise<void> {
    const i = this.get(ref);
    i.state = PowerState.SHUTDOWN;
    this.emit(ref, 'STOPPED');
  }

  override async powerOn(ref: InstanceRef): Promise<void> {
    const i = this.get(ref);
    if (i.state !== PowerState.RUNNING) {
      i.state = PowerState.RUNNING;
      i.bootId = randomUUID();
      i.bootedAt = Date.now();
      this.emit(ref, 'STARTED');
    }
  }

  override async pause(ref: InstanceRef): Promise<void> {
    this.transition(ref, 'pause', [PowerState.RUNNING], PowerState.PAUSED);
    this.emit(ref, 'PAUSED');
  }

  override async unpause(ref: InstanceRef): Promise<void> {
    this.transition(ref, 'unpause', [PowerState.PAUSED], PowerState.RUNNING);
    this.emit(ref, 'RESUMED');
  }

  override async suspend(ref: InstanceRef): Promise<void> {
    this.transition(ref, 'suspend', [PowerState.RUNNING, PowerState.PAUSED], PowerState.SUSPENDED);
    this.emit(ref, 'SUSPENDED');
  }

  override async resume(ref: InstanceRef): Promise<void> {
    this.transition(ref, 'resume', [PowerState.SUSPENDED], PowerState.RUNNING);
    this.emit(ref, 'RESUMED');
  }

  override async rescue(ref: InstanceRef, _options?: RescueOptions): Promise<void> {
    const i = this.get(ref);
    if (i.rescued) throw new InvalidStateError(`Instance ${ref.name} is already in rescue mode; unrescue it first.`);
    i.rescued = true;
  }

  override async unrescue(ref: InstanceRef): Promise<void> {
    const i = this.get(ref);
    if (!i.rescued) throw new InvalidStateError(`Instance ${ref.name} is not in rescue mode.`);
    i.rescued = false;
  }

  override async resize(ref: InstanceRef, flavor: Flavor): Promise<void> {
    this.get(ref).flavor = flavor;
  }

  override async snapshot(ref: InstanceRef, options: SnapshotOptions): Promise<ImageMeta> {
    const i = this.get(ref);
    options.onProgress?.(1);
    return { ...i.image, id: randomUUID(), name: options.imageName, path: options.path ?? `${i.image.path}.${options.imageName}` };
  }

  override async setAdminPassword(ref: InstanceRef, password: string): Promise<void> {
    this.require(this.get(ref), 'set the admin password of', PowerState.RUNNING).adminPassword = password;
  }

  override async attachVolume(ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    const i = this.get(ref);
    if (i.volumes.has(mountpoint)) throw new ConflictError(`${mountpoint} of instance ${ref.name} is already in use.`);
    i.volumes.set(mountpoint, ci);
  }

  override async detachVolume(ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    const i = this.get(ref);
    if (i.volumes.get(mountpoint)?.volumeId !== ci.volumeId) throw new NotFoundError('Volume attachment', `${ref.name}:${mountpoint}`);
    i.volumes.delete(mountpoint);
  }

  override async swapVolume(ref: InstanceRef, old: VolumeConnectionInfo, next: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    await this.detachVolume(ref, old, mountpoint);
    await this.attachVolume(ref, next, mountpoint);
  }

  override async getVolumeConnector(_ref: InstanceRef): Promise<VolumeConnector> {
    return { ip: '127.0.0.1', host: 'fake-host', initiator: 'iqn.2026-11.io.virtplug:fake-host' };
  }

  override async getVncConsole(ref: InstanceRef): Promise<ConsoleInfo> {
    const i = this.get(ref);
    return { type: 'vnc', host: '127.0.0.1', port: i.vncPort, ...(i.adminPassword ? { password: i.adminPassword } : {}) };
  }

  override async getConsoleOutput(ref: InstanceRef): Promise<string> {
    return this.get(ref).consoleLog.join('\n') + '\n';
  }

  /** Volumes attached to an instance, for tests. */
  attachedVolumes(ref: InstanceRef): Map<string, VolumeConnectionInfo> {
    return new Map(this.get(ref).volumes);
  }

  private get(ref: InstanceRef): FakeInstance {
    const i = this.instances.get(ref.uuid);
    if (!i) throw new NotFoundError('Instance', ref.uuid, 'it may have been deleted; list instances to see what exists');
    return i;
  }

  private require(i: FakeInstance, action: string, ...states: PowerState[]): FakeInstance {
    if (!states.includes(i.state)) {
      throw new InvalidStateError(
        `Cannot ${action} instance ${i.ref.name} while it is ${powerStateName(i.state)}; it must be ${states.map(powerStateName).join(' or ')}.`,
        { state: powerStateName(i.state) },
      );
    }
    return i;
  }

  private transition(ref: InstanceRef, action: string, from: PowerState[], to: PowerState): void {
    this.require(this.get(ref), action, ...from).state = to;
  }
}
