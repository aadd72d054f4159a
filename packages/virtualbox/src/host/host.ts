import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname, networkInterfaces, uptime } from 'node:os';
import type { HostInfo, HostResources } from '@virtplug/core';
import type { VBoxCommands } from '../vboxmanage/commands.js';
import type { VBoxManageRunner } from '../vboxmanage/runner.js';

/** The address consoles and volume connectors advertise: the first non-internal IPv4 address. */
export function hostAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function hostUptimeSeconds(): number {
  return Math.round(uptime());
}

export async function getHostInfo(vbox: VBoxCommands, runner: VBoxManageRunner): Promise<HostInfo> {
  const [version, info] = await Promise.all([runner.version(), vbox.hostInfo()]);
  return {
    hostname: hostname(),
    hypervisorType: 'vbox',
    hypervisorVersion: version.version,
    versions: { VBoxManage: version.raw },
    ...(info.cpuModel ? { cpuModel: info.cpuModel } : {}),
    cpus: info.processorCount ?? info.processorOnlineCount ?? 0,
    memoryMb: info.memorySizeMb ?? 0,
  };
}

function diskGb(path: string): { total: number; free: number } {
  // The instances path may not exist yet: measure the file system it will be created on.
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const s = statfsSync(dir);
    const gb = 1024 ** 3;
    return { total: Math.floor((s.blocks * s.bsize) / gb), free: Math.floor((s.bavail * s.bsize) / gb) };
  } catch {
    return { total: 0, free: 0 };
  }
}

/**
 * Nova's get_available_resource from `list hostinfo` (processor count, memory size and available), the
 * instances path's file system, and the vCPUs of running machines.
 */
export async function getAvailableResource(vbox: VBoxCommands, runner: VBoxManageRunner, instancesPath: string): Promise<HostResources> {
  const [version, info, running] = await Promise.all([runner.version(), vbox.hostInfo(), vbox.listRunningVms()]);
  let vcpusUsed = 0;
  for (const vm of running) {
    const vmInfo = await vbox.findVm(vm.uuid);
    vcpusUsed += vmInfo?.cpus ?? 0;
  }
  const memory = info.memorySizeMb ?? 0;
  const disk = diskGb(instancesPath);
  return {
    vcpus: info.processorCount ?? 0,
    memoryMb: memory,
    localGb: disk.total,
    vcpusUsed,
    memoryMbUsed: info.memoryAvailableMb !== undefined ? Math.max(0, memory - info.memoryAvailableMb) : 0,
    localGbUsed: Math.max(0, disk.total - disk.free),
    hypervisorType: 'vbox',
    hypervisorVersion: version.version,
    hypervisorHostname: hostname(),
    cpuInfo: {
      model: info.cpuModel ?? 'unknown',
      ...(info.cpuSpeedMhz ? { speedMhz: info.cpuSpeedMhz } : {}),
      cores: info.processorCoreCount ?? info.processorCount ?? 0,
      hwVirtualization: info.hwVirtualization ?? false,
      arch: process.arch,
    },
  };
}
