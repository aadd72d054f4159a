import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { hasGuestAgent, type ComputeDriver, type GuestAgentClient, type ImageMeta, type Instance, type InstanceRef, type NetworkInfo } from '@virtplug/core';
import type { LabFacts } from './lab.js';

const IMAGE_DIR = process.env.VIRTPLUG_GUEST_IMAGE_DIR ?? '/var/lib/virtplug/guest-image';

/** The project's test guest (tools/guest-image) as a direct-kernel-boot image. */
export function guestImage(): ImageMeta {
  if (!existsSync(`${IMAGE_DIR}/manifest.json`)) throw new Error(`No guest image in ${IMAGE_DIR}; build it with: bash tools/guest-image/build.sh`);
  const m = JSON.parse(readFileSync(`${IMAGE_DIR}/manifest.json`, 'utf8')) as { kernel?: string; cmdline?: string; inputsHash?: string };
  const kernel = m.kernel && existsSync(`${IMAGE_DIR}/${m.kernel}`) ? m.kernel : 'vmlinuz';
  return {
    id: `guest-${(m.inputsHash ?? 'local').slice(0, 12)}`,
    name: 'virtplug test guest',
    diskFormat: 'qcow2',
    path: `${IMAGE_DIR}/data.qcow2`,
    kernel: `${IMAGE_DIR}/${kernel}`,
    initrd: `${IMAGE_DIR}/initrd.img`,
    cmdline: m.cmdline ?? 'console=ttyS0 quiet',
  };
}

/** A NIC on one of the lab's tenant segments (bridge, segmentation id and cidr from lab.json). */
export function labNic(facts: LabFacts, segment: string, mac: string): NetworkInfo[number] {
  const s = facts.segments[segment]!;
  return {
    id: `vp-io-port-${segment}`,
    address: mac,
    fixedIps: [s.guestAddress!.split('/')[0]!],
    network: { id: `vp-io-net-${segment}`, label: segment, segmentType: s.type, segmentationId: s.id, bridge: s.bridge, cidr: s.cidr },
  };
}

export function ioInstance(networkInfo: NetworkInfo, io: boolean, tag: string): Instance {
  return {
    uuid: randomUUID(),
    name: `vp-io-${tag}-${randomUUID().slice(0, 6)}`,
    flavor: { name: io ? 'io.tiny' : 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1, ...(io ? { extraSpecs: { 'io:enabled': '1' } } : {}) },
    networkInfo,
  };
}

export function agentOf(driver: ComputeDriver, ref: InstanceRef): GuestAgentClient {
  if (!hasGuestAgent(driver)) throw new Error(`driver ${driver.name} exposes no guest agent (GuestAgentAccess)`);
  return driver.guestAgent(ref);
}

/** The guest device whose serial is the volume id (hot-plugged disks appear a moment after attach). */
export async function deviceBySerial(agent: GuestAgentClient, serial: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await agent.request<{ disks: Array<{ name: string; serial?: string }> }>('list-disks');
    const d = r.disks.find((x) => x.serial === serial);
    if (d) return `/dev/${d.name}`;
    if (Date.now() > deadline) throw new Error(`no disk with serial ${serial} appeared in the guest within ${timeoutMs} ms (disks: ${JSON.stringify(r.disks)})`);
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

export async function guestDisks(agent: GuestAgentClient): Promise<string[]> {
  return (await agent.request<{ disks: Array<{ name: string; serial?: string }> }>('list-disks')).disks.map((d) => d.serial ?? d.name);
}

/** Domains of this suite still defined in libvirt (by the vp-io- prefix). */
export async function leftoverDomains(): Promise<string[]> {
  const r = await execa('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name'], { reject: false });
  return r.stdout.split('\n').map((s) => s.trim()).filter((n) => n.startsWith('vp-io-'));
}

export async function destroyLeftoverDomains(): Promise<void> {
  for (const name of await leftoverDomains()) {
    await execa('virsh', ['-c', 'qemu:///system', 'destroy', name], { reject: false });
    await execa('virsh', ['-c', 'qemu:///system', 'undefine', name], { reject: false });
  }
}
