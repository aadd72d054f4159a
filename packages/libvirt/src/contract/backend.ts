import type { ComputeDriver, EvidenceFile } from '@virtplug/core';

/** What a libvirt contract run records as its backend: libvirt and QEMU versions and the virt type. */
export async function libvirtBackend(d: ComputeDriver, uri: string): Promise<EvidenceFile['backend']> {
  const info = await d.getHostInfo();
  const libvirt = info.versions.libvirt ?? 'unknown';
  const qemu = info.versions.qemu ?? info.hypervisorVersion;
  const virtType = info.versions.virt_type ?? 'unknown';
  return {
    name: 'libvirt+qemu',
    version: `libvirt ${libvirt}, QEMU ${qemu}, virt_type ${virtType}`,
    details: { libvirt, qemu, virt_type: virtType, uri, hostname: info.hostname },
  };
}
