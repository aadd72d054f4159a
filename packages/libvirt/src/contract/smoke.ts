import type { ContractOptions, VirtplugConfig } from '@virtplug/core';
import type { LibvirtDriver } from '../driver.js';
import { projectGuestImage } from '../guest-image.js';
import { libvirtBackend } from './backend.js';
import { fileVolume } from './file-volume.js';
import { agentProbe, waitForAgent } from './guest.js';

/**
 * `virtplug smoke libvirt`: the core contract against the configured libvirt, with a guest booted from
 * the project's guest image, its agent as the probe, and a file volume whose bytes are checked on the
 * host. Writes docs/evidence/libvirt.json (live).
 */
export async function libvirtSmoke(driver: LibvirtDriver, context: { evidenceDir: string; config: VirtplugConfig }): Promise<ContractOptions> {
  const deps = driver.internals();
  return {
    label: 'libvirt',
    image: projectGuestImage(deps.config.guest_image_dir),
    flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 },
    resizeFlavor: { name: 'm1.tiny.plus', memoryMb: 320, vcpus: 2, rootGb: 1 },
    timeoutMs: 180_000,
    guest: agentProbe(() => driver),
    waitForGuest: (_d, i) => waitForAgent(driver, i),
    // The volume's file lives only as long as its check (the fixture removes it).
    volumes: { file: fileVolume(() => driver, '/var/tmp') },
    evidence: { dir: context.evidenceDir, mode: 'live', file: 'libvirt', backend: (d) => libvirtBackend(d, deps.uri.uri) },
  };
}
