import { join } from 'node:path';
import { opt, type SectionValues } from '@virtplug/core';
import { isValidPortSpec } from './vrde/port-spec.js';

/**
 * The `[virtualbox]` section: every option of nova-virtualbox (seed 004) with its default, plus the
 * options this driver adds (per-call timeouts, where instances live).
 */
export const VIRTUALBOX_SECTION = {
  remote_display: opt.bool(false, 'Enable the VRDE server (VNC or RDP console) of each instance.'),
  retry_count: opt.int(3, 'How many times a VBoxManage call is tried when VirtualBox reports a lock or a transient error.', { min: 1 }),
  retry_interval: opt.number(1, 'Seconds between those tries; also how often a soft shutdown request is re-sent.', { min: 0 }),
  vboxmanage_cmd: opt.str('VBoxManage', 'Path of VBoxManage (or a name on PATH); point it at bin/fake-vboxmanage.js for the replay harness.'),
  vrde_unique_port: opt.bool(false, 'Give each instance its own VRDE port from vrde_port, returned on power off and destroy.'),
  vrde_module: opt.str('Oracle VM VirtualBox Extension Pack', 'Extension pack providing the VRDE server: the Oracle pack (RDP) or VNC.'),
  vrde_port: opt.matching(
    '3389',
    'A port, a list or ranges of ports the VRDE server can bind to, e.g. "3389", "5900-6000" or "6, 7-8".',
    'a port (1-65535), a range like "5900-6000", or a comma-separated list of those',
    isValidPortSpec,
  ),
  vrde_require_instance_uuid_as_password: opt.bool(false, 'Use the instance UUID as the VNC password of the VRDE server.'),
  vrde_password_length: opt.optionalInt('Cut the VRDE password to this many characters (None: the whole UUID).', { min: 1 }),
  wait_soft_reboot_seconds: opt.int(60, 'Seconds to wait for the guest to shut down after a soft reboot request before resetting it.', { min: 0 }),
  call_timeout_seconds: opt.number(120, 'Per-call VBoxManage timeout; a call running longer is killed.', { min: 0.1 }),
  medium_timeout_seconds: opt.number(3600, 'Timeout for disk copies (clonemedium, convertfromraw), which take time proportional to the disk.', { min: 1 }),
  instances_path: opt.optionalStr('Where instance folders (settings, disks, serial logs) live; default <state_path>/virtualbox/instances.'),
  images_path: opt.optionalStr('Where snapshots are exported; default <state_path>/virtualbox/images.'),
};

/** The `[rdp]` section: nova's RDP options, read by the VRDE setup when the RDP module is in use. */
export const RDP_SECTION = {
  enabled: opt.bool(false, "Nova's generic RDP console switch; accepted for compatibility (VRDE is governed by remote_display)."),
  encrypted_rdp: opt.bool(false, 'Enable RDP encryption (VRDE Security/Method).'),
  security_method: opt.oneOf(['RDP', 'TLS', 'Negotiate'], 'RDP', 'The RDP security method: RDP, TLS or Negotiate.', true),
  server_certificate: opt.optionalStr('The server certificate (PEM) for TLS/Negotiate.'),
  server_private_key: opt.optionalStr('The server private key (PEM) for TLS/Negotiate.', { secret: true }),
  server_ca: opt.optionalStr('The certificate authority (CA) certificate (PEM).'),
};

export const CONFIG_SECTIONS = { virtualbox: VIRTUALBOX_SECTION, rdp: RDP_SECTION } as const;

export type VirtualBoxSection = SectionValues<typeof VIRTUALBOX_SECTION>;
export type RdpSection = SectionValues<typeof RDP_SECTION>;

/** Everything the driver's parts need, resolved once: durations in ms, paths absolute. */
export interface VBoxSettings {
  virtualbox: VirtualBoxSection;
  rdp: RdpSection;
  cmd: string;
  retryCount: number;
  retryIntervalMs: number;
  callTimeoutMs: number;
  mediumTimeoutMs: number;
  softRebootWaitMs: number;
  instancesPath: string;
  imagesPath: string;
  /** `[DEFAULT] use_cow_images`: root disks as differencing images over a cached base. */
  useCowImages: boolean;
}

export function resolveSettings(
  virtualbox: VirtualBoxSection,
  rdp: RdpSection,
  statePath: string,
  useCowImages = true,
): VBoxSettings {
  return {
    virtualbox,
    rdp,
    cmd: virtualbox.vboxmanage_cmd,
    retryCount: virtualbox.retry_count,
    retryIntervalMs: Math.round(virtualbox.retry_interval * 1000),
    callTimeoutMs: Math.round(virtualbox.call_timeout_seconds * 1000),
    mediumTimeoutMs: Math.round(virtualbox.medium_timeout_seconds * 1000),
    softRebootWaitMs: virtualbox.wait_soft_reboot_seconds * 1000,
    instancesPath: virtualbox.instances_path ?? join(statePath, 'virtualbox', 'instances'),
    imagesPath: virtualbox.images_path ?? join(statePath, 'virtualbox', 'images'),
    useCowImages,
  };
}
