export interface HostResources {
  vcpus: number;
  memoryMb: number;
  localGb: number;
  vcpusUsed: number;
  memoryMbUsed: number;
  localGbUsed: number;
  hypervisorType: string;
  hypervisorVersion: string;
  hypervisorHostname: string;
  cpuInfo: Record<string, unknown>;
}

export interface HostInfo {
  hostname: string;
  hypervisorType: string;
  hypervisorVersion: string;
  /** Other versions worth recording (libvirt, QEMU, VBoxManage). */
  versions: Record<string, string>;
  cpuModel?: string;
  cpus: number;
  memoryMb: number;
}

export interface ProbeResult {
  usable: boolean;
  /** Why not, and what to do; or what was found. */
  reason: string;
  backendVersion?: string;
}
