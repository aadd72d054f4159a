import type { Logger } from 'pino';
import {
  AbstractComputeDriver,
  vmStateFor,
  type CapabilityDeclarations,
  type ConsoleInfo,
  type DestroyOptions,
  type Flavor,
  type HostInfo,
  type HostResources,
  type ImageMeta,
  type Instance,
  type InstanceInfo,
  type InstanceRef,
  type PowerOffOptions,
  type ProbeResult,
  type ProcessRunner,
  type RebootType,
  type RescueOptions,
  type SnapshotOptions,
  type SpawnOptions,
  type VolumeConnectionInfo,
  type VolumeConnector,
} from '@virtplug/core';
import { capabilitiesFor } from './capabilities.js';
import type { VBoxSettings } from './config.js';
import type { DriverContext } from './context.js';
import { readSerialLog } from './consoles/serial-log.js';
import { getAvailableResource, getHostInfo, hostAddress, hostUptimeSeconds } from './host/host.js';
import { destroyVm } from './lifecycle/destroy.js';
import * as power from './lifecycle/power.js';
import { reboot } from './lifecycle/reboot.js';
import { rescue, unrescue } from './lifecycle/rescue.js';
import { resize } from './lifecycle/resize.js';
import { spawn } from './lifecycle/spawn.js';
import { powerStateOf } from './lifecycle/state-map.js';
import { checkInstanceRef, InstancePaths } from './paths.js';
import { probeVBoxManage } from './probe.js';
import { isRescued } from './storage/attachments.js';
import { snapshotToImage } from './storage/snapshot.js';
import { attachVolume, detachVolume, volumeConnector } from './storage/volumes.js';
import { VBoxCommands } from './vboxmanage/commands.js';
import { KeyedMutex } from '@virtplug/core';
import { VBoxManageRunner } from './vboxmanage/runner.js';
import { VrdeManager } from './vrde/vrde-manager.js';

/**
 * Nova's VirtualBoxDriver over VBoxManage. A table of contents: each operation validates the instance,
 * takes the machine's lock, and hands over to the folder that does the work.
 */
export class VirtualBoxDriver extends AbstractComputeDriver {
  readonly name = 'virtualbox';
  readonly capabilities: CapabilityDeclarations;
  readonly ctx: DriverContext;

  constructor(settings: VBoxSettings, processes: ProcessRunner, logger: Logger) {
    super();
    this.capabilities = capabilitiesFor(settings.virtualbox);
    const runner = new VBoxManageRunner(processes, {
      cmd: settings.cmd,
      retryCount: settings.retryCount,
      retryIntervalMs: settings.retryIntervalMs,
      timeoutMs: settings.callTimeoutMs,
      logger,
    });
    const vbox = new VBoxCommands(runner);
    this.ctx = {
      driverName: this.name,
      settings,
      runner,
      vbox,
      logger,
      locks: new KeyedMutex(),
      vrde: new VrdeManager(vbox, settings, logger, hostAddress),
      paths: new InstancePaths(settings.instancesPath, settings.imagesPath),
      emit: (instance, transition) => this.emit(instance, transition),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
  }

  /** Runs `fn` holding the machine's lock, after checking the reference is one we can address. */
  private locked<T>(ref: InstanceRef, fn: () => Promise<T>): Promise<T> {
    checkInstanceRef(ref);
    return this.ctx.locks.run(ref.uuid.toLowerCase(), fn);
  }

  override probe(): Promise<ProbeResult> {
    return probeVBoxManage(this.ctx.runner);
  }

  // host
  override getHostInfo(): Promise<HostInfo> {
    return getHostInfo(this.ctx.vbox, this.ctx.runner);
  }
  override getAvailableResource(): Promise<HostResources> {
    return getAvailableResource(this.ctx.vbox, this.ctx.runner, this.ctx.settings.instancesPath);
  }
  override async getHostUptime(): Promise<number> {
    return hostUptimeSeconds();
  }
  override async getHostIpAddr(): Promise<string> {
    return hostAddress();
  }

  // inventory
  override async getInfo(ref: InstanceRef): Promise<InstanceInfo> {
    checkInstanceRef(ref);
    const info = await this.ctx.vbox.showVmInfo(ref.uuid);
    const state = powerStateOf(info.state);
    return {
      uuid: ref.uuid,
      name: info.inaccessible ? ref.name : info.name,
      state,
      vmState: info.inaccessible ? 'error' : vmStateFor(state, isRescued(info, this.ctx.paths)),
      maxMemKb: info.memoryMb * 1024,
      memKb: info.memoryMb * 1024,
      vcpus: info.cpus,
      // VBoxManage has no cumulative CPU time for a machine.
      cpuTimeNs: 0,
      internalId: info.uuid || ref.uuid,
    };
  }
  override async listInstances(): Promise<string[]> {
    return (await this.ctx.vbox.listVms()).filter((vm) => !vm.inaccessible).map((vm) => vm.name);
  }
  override async listInstanceRefs(): Promise<InstanceRef[]> {
    return (await this.ctx.vbox.listVms()).filter((vm) => !vm.inaccessible).map((vm) => ({ uuid: vm.uuid, name: vm.name }));
  }
  override async listInstanceUuids(): Promise<string[]> {
    return (await this.ctx.vbox.listVms()).map((vm) => vm.uuid);
  }

  // lifecycle
  override spawn(instance: Instance, image: ImageMeta, options?: SpawnOptions): Promise<InstanceInfo> {
    return this.locked(instance, async () => {
      await spawn(this.ctx, instance, image, options);
      return this.getInfo(instance);
    });
  }
  override destroy(ref: InstanceRef, options?: DestroyOptions): Promise<void> {
    return this.locked(ref, () => destroyVm(this.ctx, ref, options));
  }
  override reboot(ref: InstanceRef, type: RebootType): Promise<void> {
    return this.locked(ref, () => reboot(this.ctx, ref, type));
  }
  override powerOff(ref: InstanceRef, options?: PowerOffOptions): Promise<void> {
    return this.locked(ref, () => power.powerOff(this.ctx, ref, options));
  }
  override powerOn(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => power.powerOn(this.ctx, ref));
  }
  override pause(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => power.pause(this.ctx, ref));
  }
  override unpause(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => power.unpause(this.ctx, ref));
  }
  override suspend(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => power.suspend(this.ctx, ref));
  }
  override resume(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => power.resume(this.ctx, ref));
  }
  override rescue(ref: InstanceRef, options?: RescueOptions): Promise<void> {
    return this.locked(ref, () => rescue(this.ctx, ref, options));
  }
  override unrescue(ref: InstanceRef): Promise<void> {
    return this.locked(ref, () => unrescue(this.ctx, ref));
  }
  override resize(ref: InstanceRef, flavor: Flavor): Promise<void> {
    return this.locked(ref, () => resize(this.ctx, ref, flavor));
  }
  override snapshot(ref: InstanceRef, options: SnapshotOptions): Promise<ImageMeta> {
    return this.locked(ref, () => snapshotToImage(this.ctx, ref, options));
  }

  // volumes
  override attachVolume(ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    return this.locked(ref, () => attachVolume(this.ctx, ref, ci, mountpoint));
  }
  override detachVolume(ref: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    return this.locked(ref, () => detachVolume(this.ctx, ref, ci, mountpoint));
  }
  override async getVolumeConnector(ref: InstanceRef): Promise<VolumeConnector> {
    checkInstanceRef(ref);
    return volumeConnector();
  }

  // consoles
  override async getVncConsole(ref: InstanceRef): Promise<ConsoleInfo> {
    this.ctx.vrde.requireConsole(this.name, 'vnc');
    checkInstanceRef(ref);
    return this.ctx.vrde.console(ref, await this.ctx.vbox.showVmInfo(ref.uuid), 'vnc');
  }
  override async getRdpConsole(ref: InstanceRef): Promise<ConsoleInfo> {
    this.ctx.vrde.requireConsole(this.name, 'rdp');
    checkInstanceRef(ref);
    return this.ctx.vrde.console(ref, await this.ctx.vbox.showVmInfo(ref.uuid), 'rdp');
  }
  override async getConsoleOutput(ref: InstanceRef): Promise<string> {
    checkInstanceRef(ref);
    return readSerialLog(await this.ctx.vbox.showVmInfo(ref.uuid));
  }
}
