import type { Flavor } from './flavor.js';
import type { NetworkInfo } from './network.js';
import type { PowerState, VmState } from './states.js';

/** How a driver call names an instance: Nova passes the whole instance; the uuid is authoritative. */
export interface InstanceRef {
  uuid: string;
  name: string;
}

export interface Instance extends InstanceRef {
  flavor: Flavor;
  /** Id of the image it was built from. */
  imageRef?: string;
  hostname?: string;
  networkInfo?: NetworkInfo;
  metadata?: Record<string, string>;
  /** Password for consoles that need one (VRDE, VNC); drivers may generate it. */
  adminPassword?: string;
}

export interface InstanceInfo {
  uuid: string;
  name: string;
  state: PowerState;
  vmState: VmState;
  maxMemKb: number;
  memKb: number;
  vcpus: number;
  cpuTimeNs: number;
  /** The hypervisor's own id for it (libvirt domain id, VirtualBox UUID). */
  internalId?: string;
}
