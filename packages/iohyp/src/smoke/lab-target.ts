import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type ImageMeta, type IscsiConnectionInfo, type Vif } from '@virtplug/core';

export const LAB_FACTS = '/run/vp-io-lab/lab.json';

/** Everything the smoke scenario needs to know about where it runs. */
export interface SmokeTarget {
  image: ImageMeta;
  nic: Vif;
  /** ip/prefix the guest takes on its segment (set through its agent). */
  guestAddress: string;
  volume: IscsiConnectionInfo;
  /** The volume's backing file on the storage host, where the guest's bytes must land. */
  backingFile: string;
  /** The config file the lab wrote for router and agent. */
  config: string;
}

/** The guest image directory of tools/guest-image as a direct-kernel-boot image. */
export function guestImageFrom(dir: string): ImageMeta {
  if (!existsSync(`${dir}/manifest.json`)) throw new InvalidArgumentError('guest image directory', dir, 'a built guest image; run: bash tools/guest-image/build.sh');
  const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { kernel?: string; cmdline?: string; inputsHash?: string };
  const kernel = m.kernel && existsSync(`${dir}/${m.kernel}`) ? m.kernel : 'vmlinuz';
  return {
    id: `guest-${(m.inputsHash ?? 'local').slice(0, 12)}`,
    name: 'virtplug test guest',
    diskFormat: 'qcow2',
    path: `${dir}/data.qcow2`,
    kernel: `${dir}/${kernel}`,
    initrd: `${dir}/initrd.img`,
    cmdline: m.cmdline ?? 'console=ttyS0 quiet',
  };
}

/** Reads the lab's facts (tools/lab/iohyp.sh writes them) into a smoke target on VLAN 100 with CHAP. */
export function smokeTargetFromLab(factsFile = LAB_FACTS, guestImageDir = '/var/lib/virtplug/guest-image'): SmokeTarget {
  if (!existsSync(factsFile)) throw new InvalidArgumentError('IOhyp lab facts', factsFile, 'a running lab; start it with: bash tools/lab/iohyp.sh up');
  const f = JSON.parse(readFileSync(factsFile, 'utf8')) as {
    config: string;
    storage: { portal: string; iqnPrefix: string; volumesDir: string; chapFile: string };
    segments: Record<string, { type: 'vlan' | 'vxlan'; id: number; cidr: string; bridge: string; guestAddress: string }>;
  };
  const seg = f.segments.vlan100!;
  const chap = JSON.parse(readFileSync(f.storage.chapFile, 'utf8')) as { username: string; password: string };
  return {
    image: guestImageFrom(guestImageDir),
    nic: {
      id: 'vp-io-smoke-port',
      address: '52:54:00:88:01:99',
      fixedIps: [seg.guestAddress.split('/')[0]!],
      network: { id: 'vp-io-net-vlan100', label: 'vlan100', segmentType: seg.type, segmentationId: seg.id, bridge: seg.bridge, cidr: seg.cidr },
    },
    guestAddress: seg.guestAddress,
    volume: {
      driverVolumeType: 'iscsi',
      volumeId: 'vpio-smoke',
      data: { targetPortal: f.storage.portal, targetIqn: `${f.storage.iqnPrefix}:vol1`, targetLun: 1, authMethod: 'CHAP', authUsername: chap.username, authPassword: chap.password },
    },
    backingFile: `${f.storage.volumesDir}/vol1.img`,
    config: f.config,
  };
}
