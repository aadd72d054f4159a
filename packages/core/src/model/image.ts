export type DiskFormat = 'qcow2' | 'raw' | 'vdi' | 'vmdk' | 'vhd';

/** Image metadata, as Glance would hand it to a driver. Local files stand in for the image service. */
export interface ImageMeta {
  id: string;
  name: string;
  diskFormat: DiskFormat;
  /** Path of the disk image file. */
  path: string;
  /** Direct kernel boot, for guests without a bootloader. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  sizeBytes?: number;
  properties?: Record<string, string>;
}
