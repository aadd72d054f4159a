import { statfs, readFile, mkdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { UnsupportedOperationError, type HostInfo, type HostResources, type VolumeConnector } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';

const GIB = 1024 ** 3;

/** The first non-loopback IPv4 address, or 127.0.0.1 on a host with none. */
export function firstIpv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** A hostname as the tail of an IQN (lower case, [a-z0-9.-]). */
export function iqnFor(hostname: string): string {
  return `iqn.2026-11.dev.virtplug:${hostname.toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'host'}`;
}

export async function getHostInfo(deps: LibvirtDriverDeps): Promise<HostInfo> {
  const [hostname, node, v] = await Promise.all([deps.transport.hostname(), deps.transport.nodeInfo(), deps.versions()]);
  return {
    hostname,
    hypervisorType: v.hypervisorType,
    hypervisorVersion: v.hypervisorVersion,
    versions: { libvirt: v.libvirt, [v.hypervisorType.toLowerCase()]: v.hypervisorVersion, virt_type: deps.config.domain_type, uri: deps.uri.uri },
    cpuModel: node.model,
    cpus: node.cpus,
    memoryMb: Math.floor(node.memoryKb / 1024),
  };
}

/** Nova's get_available_resource: node totals, what virtplug's domains use, and the instances disk. */
export async function getAvailableResource(deps: LibvirtDriverDeps): Promise<HostResources> {
  const [hostname, node, v, managed] = await Promise.all([deps.transport.hostname(), deps.transport.nodeInfo(), deps.versions(), deps.domains.listManaged()]);
  const infos = await Promise.all(managed.map((d) => deps.transport.getInfo(d.uuid).catch(() => undefined)));
  let localGb = 0;
  let localGbUsed = 0;
  if (deps.uri.local) {
    await mkdir(deps.config.instances_path, { recursive: true }).catch(() => undefined);
    const fs = await statfs(deps.config.instances_path).catch(() => undefined);
    if (fs) {
      localGb = Math.floor((fs.blocks * fs.bsize) / GIB);
      localGbUsed = Math.ceil(((fs.blocks - fs.bfree) * fs.bsize) / GIB);
    }
  }
  return {
    vcpus: node.cpus,
    memoryMb: Math.floor(node.memoryKb / 1024),
    localGb,
    vcpusUsed: infos.reduce((n, i) => n + (i && i.state !== 5 ? i.vcpus : 0), 0),
    memoryMbUsed: infos.reduce((n, i) => n + (i && i.state !== 5 ? Math.floor(i.maxMemKb / 1024) : 0), 0),
    localGbUsed,
    hypervisorType: v.hypervisorType,
    hypervisorVersion: v.hypervisorVersion,
    hypervisorHostname: hostname,
    cpuInfo: { model: node.model, arch: 'x86_64', topology: { sockets: node.sockets, cores: node.cores, threads: node.threads }, mhz: node.mhz },
  };
}

/** Seconds since the hypervisor host booted: /proc/uptime, so only for a local connection. */
export async function getHostUptime(deps: LibvirtDriverDeps): Promise<number> {
  if (!deps.uri.local) throw new UnsupportedOperationError(deps.driverName, 'getHostUptime', `${deps.uri.uri} is remote; the uptime is read from this host's /proc/uptime`);
  return Number((await readFile('/proc/uptime', 'utf8')).split(/\s+/)[0]);
}

export async function getVolumeConnector(deps: LibvirtDriverDeps): Promise<VolumeConnector> {
  return { ip: deps.myIp(), host: await deps.transport.hostname(), initiator: await deps.initiatorIqn() };
}
