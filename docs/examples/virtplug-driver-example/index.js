// A complete third-party driver in plain JavaScript: a "hypervisor" of processes-that-are-not-there,
// enough to show the contract. virtplug loads it with `compute_driver = virtplug-driver-example`.
import { randomUUID } from 'node:crypto';
import {
  AbstractComputeDriver,
  ConflictError,
  NotFoundError,
  PowerState,
  declareCapabilities,
  vmStateFor,
} from '@virtplug/core';

const capabilities = declareCapabilities({
  'operation.launch': 'complete',
  'operation.terminate': 'complete',
  'operation.get-guest-info': 'complete',
  'operation.get-host-info': 'complete',
  'operation.pause': 'complete',
  'operation.unpause': 'complete',
  'storage.image': 'complete',
});

class ExampleDriver extends AbstractComputeDriver {
  name = 'example';
  capabilities = capabilities;
  #vms = new Map();

  async getHostInfo() {
    return { hostname: 'example', hypervisorType: 'example', hypervisorVersion: '0.1', versions: {}, cpus: 4, memoryMb: 4096 };
  }
  async getAvailableResource() {
    return { vcpus: 4, memoryMb: 4096, localGb: 10, vcpusUsed: 0, memoryMbUsed: 0, localGbUsed: 0, hypervisorType: 'example', hypervisorVersion: '0.1', hypervisorHostname: 'example', cpuInfo: {} };
  }
  async listInstanceRefs() {
    return [...this.#vms.values()].map((v) => ({ uuid: v.uuid, name: v.name }));
  }
  async listInstances() {
    return [...this.#vms.values()].map((v) => v.name);
  }
  async listInstanceUuids() {
    return [...this.#vms.keys()];
  }
  async spawn(instance, image) {
    if (!image.path.startsWith('/images/')) throw new NotFoundError('Image', image.path, 'this driver only knows /images/*');
    if (this.#vms.has(instance.uuid)) throw new ConflictError(`Instance ${instance.name} already exists.`);
    this.#vms.set(instance.uuid, { uuid: instance.uuid, name: instance.name, flavor: instance.flavor, state: PowerState.RUNNING, id: randomUUID() });
    this.emit(instance, 'STARTED');
    return this.getInfo(instance);
  }
  async destroy(ref) {
    this.#vms.delete(ref.uuid);
  }
  async getInfo(ref) {
    const vm = this.#vms.get(ref.uuid);
    if (!vm) throw new NotFoundError('Instance', ref.uuid);
    const kb = vm.flavor.memoryMb * 1024;
    return { uuid: vm.uuid, name: vm.name, state: vm.state, vmState: vmStateFor(vm.state), maxMemKb: kb, memKb: kb, vcpus: vm.flavor.vcpus, cpuTimeNs: 0 };
  }
  async pause(ref) {
    (await this.#get(ref)).state = PowerState.PAUSED;
  }
  async unpause(ref) {
    (await this.#get(ref)).state = PowerState.RUNNING;
  }
  async #get(ref) {
    const vm = this.#vms.get(ref.uuid);
    if (!vm) throw new NotFoundError('Instance', ref.uuid);
    return vm;
  }
}

/** What the registry looks for: `driverModule` (or the default export). */
export const driverModule = {
  name: 'example',
  title: 'Example third-party driver',
  capabilities,
  create: () => new ExampleDriver(),
};
export default driverModule;
