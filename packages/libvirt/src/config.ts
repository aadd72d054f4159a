import { join } from 'node:path';
import { ConfigError, opt, type SectionValues } from '@virtplug/core';
import { URI_EXPECTED, isValidLibvirtUri, parseLibvirtUri } from './transport/uri.js';

/** `[libvirt]` options (nova.conf's [libvirt] where a name matches). Empty paths derive from state_path. */
export const LIBVIRT_SECTION = {
  connection_uri: opt.matching('qemu:///system', 'libvirt connection URI.', URI_EXPECTED, isValidLibvirtUri),
  virt_type: opt.oneOf(['qemu', 'kvm', 'xen'], 'qemu', 'Domain type: qemu (TCG), kvm or xen. Nested KVM hangs on the project machines, hence qemu.'),
  transport: opt.oneOf(['auto', 'virsh'], 'auto', 'auto: the in-process binding plus virsh for what it lacks; virsh: virsh for every call.'),
  virsh_cmd: opt.str('virsh', 'The virsh program.'),
  qemu_img_cmd: opt.str('qemu-img', 'The qemu-img program.'),
  images_path: opt.str('', 'Image cache (cached bases in _base/, snapshots in snapshots/); default <state_path>/images.'),
  instances_path: opt.str('', 'Per-instance directories (disk overlay, console log, agent socket); default <state_path>/instances.'),
  guest_image_dir: opt.str('/var/lib/virtplug/guest-image', 'The project test guest (vmlinuz, initrd.img, data.qcow2), used as the default rescue image.'),
  console_listen: opt.str('127.0.0.1', 'Address VNC and SPICE consoles listen on.'),
  vnc_enabled: opt.bool(true, 'Give each instance a VNC console.'),
  spice_enabled: opt.bool(false, 'Give each new instance a SPICE console too (Nova\'s [spice] enabled, off by default), with its own 16-character password.'),
  vnc_password_length: opt.int(8, 'Length of generated VNC passwords (VNC uses at most 8 characters).', { min: 1, max: 8 }),
  op_timeout_seconds: opt.int(60, 'Timeout of one libvirt call (binding or virsh).', { min: 1 }),
  shutdown_timeout: opt.int(60, 'Seconds to wait for a guest to shut down cleanly (soft reboot, resize, default power off).', { min: 0 }),
  shutdown_retry_interval: opt.int(10, 'Re-send the ACPI shutdown request this often while waiting.', { min: 1 }),
  cpu_mode: opt.oneOf(['none', 'host-model', 'host-passthrough'], 'none', 'Guest CPU mode; none keeps the default model (required under TCG here).'),
  machine_type: opt.str('pc', 'QEMU machine type.'),
  default_network: opt.str('', 'libvirt network for VIFs without a bridge; empty: VIFs need network.bridge.'),
  disk_cachemodes: opt.oneOf(['none', 'writeback', 'writethrough', 'directsync', 'unsafe'], 'none', 'Cache mode of instance disks and volumes.'),
  iscsi_initiator_iqn: opt.str('', 'Initiator IQN QEMU presents to iSCSI targets; default iqn.2026-11.dev.virtplug:<hostname>.'),
  my_ip: opt.str('', 'This host\'s IP (volume connector, host IP); default the first non-loopback IPv4 address.'),
  manage_all_domains: opt.bool(false, 'List every domain, not only those virtplug created (marked in their <metadata>).'),
  event_poll_interval: opt.number(2, 'Seconds between state polls for lifecycle events of out-of-band changes; 0 disables polling.', { min: 0 }),
  vms_mode: opt.oneOf(['shared', 'copy'], 'shared', 'VM streaming: shared (clones map the blessed RAM copy-on-write) or copy (each clone loads a full RAM image).'),
  vms_ram_dir: opt.str('/dev/shm/virtplug-vms', 'VM streaming: tmpfs (or hugetlbfs) directory for RAM files of shared-mode templates and live images.'),
  serial_log_max_bytes: opt.int(102400, 'How much of the serial console log getConsoleOutput returns (the tail).', { min: 1 }),
};

export type LibvirtConfig = SectionValues<typeof LIBVIRT_SECTION>;

/** Config with derived defaults filled in and cross-option rules checked. */
export interface ResolvedLibvirtConfig extends LibvirtConfig {
  images_path: string;
  instances_path: string;
  /** The `<domain type>`: the test driver needs `test`, xen URIs need `xen`. */
  domain_type: 'qemu' | 'kvm' | 'xen' | 'test';
}

export function defaultLibvirtConfig(): LibvirtConfig {
  return Object.fromEntries(Object.entries(LIBVIRT_SECTION).map(([k, v]) => [k, v.default])) as LibvirtConfig;
}

export function resolveLibvirtConfig(raw: Partial<LibvirtConfig>, statePath: string, file = '<inline>'): ResolvedLibvirtConfig {
  const c = { ...defaultLibvirtConfig(), ...raw };
  const uri = parseLibvirtUri(c.connection_uri);
  if ('error' in uri) throw new ConfigError(file, 'libvirt', 'connection_uri', c.connection_uri, `${URI_EXPECTED} (${uri.error})`);
  if (uri.driver === 'xen' && c.virt_type !== 'xen') throw new ConfigError(file, 'libvirt', 'virt_type', c.virt_type, `xen for the xen URI ${c.connection_uri}`);
  if (uri.driver === 'qemu' && c.virt_type === 'xen') throw new ConfigError(file, 'libvirt', 'virt_type', c.virt_type, `qemu or kvm for the QEMU URI ${c.connection_uri}`);
  for (const key of ['images_path', 'instances_path', 'guest_image_dir'] as const) {
    if (c[key] && !c[key].startsWith('/')) throw new ConfigError(file, 'libvirt', key, c[key], 'an absolute path (or empty for the default)');
  }
  return {
    ...c,
    images_path: c.images_path || join(statePath, 'images'),
    instances_path: c.instances_path || join(statePath, 'instances'),
    domain_type: uri.driver === 'test' ? 'test' : c.virt_type,
  };
}
