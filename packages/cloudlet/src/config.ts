import { join } from 'node:path';
import { opt, readDefaults, readSection, type SectionValues, type VirtplugConfig } from '@virtplug/core';

/** `[cloudlet]` options (docs/cloudlet.md). */
export const CLOUDLET_SECTION = {
  base_dir: opt.optionalStr('Where bases, instances and work files live; default <state_path>/cloudlet.'),
  ram_dir: opt.str('/dev/shm/virtplug-cloudlet', 'tmpfs directory for rebuilt RAM images (the driver then takes them over by rename); empty: the work dir.'),
  compression: opt.oneOf(['zstd', 'xz'] as const, 'zstd', 'Overlay compressor: zstd (fast) or xz (smallest).'),
  zstd_level: opt.int(9, 'zstd level for overlays (1-19).', { min: 1, max: 19 }),
  xz_preset: opt.int(6, 'xz preset for overlays (0-9).', { min: 0, max: 9 }),
  handoff_compression: opt.oneOf(['zstd', 'xz'] as const, 'zstd', 'Compressor for handoff residues (speed matters more than size).'),
  handoff_level: opt.int(1, 'Level for handoff residues (zstd 1-19, xz 0-9).', { min: 0, max: 19 }),
  blob_size: opt.int(1 << 20, 'Uncompressed bytes per overlay blob.', { min: 64 << 10, max: 64 << 20 }),
  workers: opt.int(2, 'Compression worker threads.', { min: 1, max: 64 }),
  delta: opt.oneOf(['xor', 'none'] as const, 'xor', 'Per-chunk delta against the same base chunk before compression.'),
  serve_token_file: opt.optionalStr('File holding the token `cloudlet serve` requires (Bearer or ?token=).', { secret: true }),
  serve_host: opt.str('127.0.0.1', 'Address `cloudlet serve` listens on.'),
  serve_port: opt.int(8021, 'Port of `cloudlet serve` (elijah used 8021).', { min: 0, max: 65535 }),
  handoff_token_file: opt.optionalStr('File holding the token `cloudlet handoff-recv` requires.', { secret: true }),
  handoff_host: opt.str('127.0.0.1', 'Address `cloudlet handoff-recv` listens on.'),
  handoff_port: opt.int(8022, 'Port of `cloudlet handoff-recv` (elijah used 8022).', { min: 0, max: 65535 }),
  tls_cert_file: opt.optionalStr('PEM certificate: with tls_key_file, `cloudlet serve` and `cloudlet handoff-recv` speak HTTPS only (TLS 1.2+), so their tokens and the VM state they carry are never in clear.'),
  tls_key_file: opt.optionalStr('PEM private key for tls_cert_file (mode 0600).', { secret: true }),
  tls_ca_file: opt.optionalStr('PEM CA bundle trusted for https:// overlay URLs and handoff destinations (default: the system CAs).'),
  agent_timeout_ms: opt.int(60_000, 'How long a synthesized instance may take to answer its agent.', { min: 1000 }),
};

export type CloudletSectionValues = SectionValues<typeof CLOUDLET_SECTION>;

export interface CloudletSettings extends Omit<CloudletSectionValues, 'base_dir'> {
  base_dir: string;
}

export function cloudletSettings(config: VirtplugConfig): CloudletSettings {
  const v = readSection(config, 'cloudlet', CLOUDLET_SECTION);
  return { ...v, base_dir: v.base_dir ?? join(readDefaults(config).state_path, 'cloudlet') };
}

/** Settings from plain values (library use and tests), defaults filled in. */
export function settingsFrom(values: Partial<CloudletSettings> & { base_dir: string }): CloudletSettings {
  const defaults = Object.fromEntries(Object.entries(CLOUDLET_SECTION).map(([k, o]) => [k, o.default])) as CloudletSectionValues;
  return { ...defaults, ...values };
}
