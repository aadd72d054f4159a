import type { Instance, InstanceRef } from '../../model/instance.js';
import type { ComputeDriver } from '../compute-driver.js';

/** What a memory image was taken on; a restore on anything else is refused up front. */
export interface MachineSignature {
  machineType: string;
  qemuVersion: string;
  cpuModel: string;
  virtType: string;
}

/**
 * A captured running VM: guest RAM as a flat file, device state, and a frozen qcow2 disk. The VMS
 * live images and the cloudlet base VMs and overlays are all built from these.
 */
export interface MemoryImage {
  /** Guest RAM, byte for byte (guest-physical layout of the pc.ram block). */
  ramPath: string;
  ramBytes: number;
  /** QEMU device state (migration stream without RAM), in the driver's own format. */
  statePath: string;
  /** The disk at capture time; immutable afterwards (clones and overlays put qcow2 on top). */
  diskPath: string;
  diskFormat: 'qcow2' | 'raw';
  machine: MachineSignature;
  /** The hypervisor's description of the VM (domain XML for libvirt). */
  descriptor: string;
}

export interface CaptureOptions {
  keepPaused?: boolean;
}

export interface RestoreOptions {
  /** Delivered to the guest agent before the clone's network comes up. */
  params?: Record<string, string>;
  /** Where the restored instance's own disk overlay goes (a qcow2 on top of image.diskPath). */
  diskPath?: string;
  /**
   * Give the restored instance a RAM file of its own, so it can be captured again later (cloudlet
   * overlays and handoff): `copy` copies image.ramPath, `move` takes the file over (the caller's
   * throw-away file, e.g. a RAM image just rebuilt by synthesis). Default: map image.ramPath
   * copy-on-write, which shares it with other restores but cannot be captured.
   */
  ownRam?: 'copy' | 'move';
}

export interface MemoryImages {
  /** The signature of this host, to compare with an image's. */
  machineSignature(): Promise<MachineSignature>;
  /**
   * Captures a running instance into `dir`; the instance is paused only briefly and keeps running,
   * unless `keepPaused`: then it stays paused at the cut (a handoff must not let the guest run on past
   * the state the destination resumes from) and the caller unpauses or destroys it.
   */
  capture(instance: InstanceRef, dir: string, options?: CaptureOptions): Promise<MemoryImage>;
  /** Starts a new instance (new name, UUID, MAC) from a memory image, resumed where it was captured. */
  restore(image: MemoryImage, instance: Instance, options?: RestoreOptions): Promise<InstanceRef>;
}

export function hasMemoryImages(driver: ComputeDriver): driver is ComputeDriver & { memoryImages: MemoryImages } {
  return typeof (driver as { memoryImages?: unknown }).memoryImages === 'object';
}
