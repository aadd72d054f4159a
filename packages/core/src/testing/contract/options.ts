import type { EvidenceFile, EvidenceMode } from '../../capabilities/evidence.js';
import type { ComputeDriver } from '../../driver/compute-driver.js';
import type { Flavor, ImageMeta, InstanceRef, VolumeConnectionInfo } from '../../model/index.js';

/** Observes a guest from inside (an agent), so state checks see what the guest sees. */
export interface GuestProbe {
  identity(instance: InstanceRef): Promise<{ bootId: string; uptimeSec: number }>;
}

/** A volume the kit can attach; `verify` proves the guest's writes land on the backing store. */
export interface VolumeFixture {
  connectionInfo: VolumeConnectionInfo;
  mountpoint: string;
  verify?(instance: InstanceRef): Promise<void>;
  cleanup?(): Promise<void>;
  /**
   * For the swap check (all optional): the guest writes/reads the device this volume was attached as
   * (a swap keeps that device, so these still reach it afterwards), and the host reads the volume's
   * backing store. Without them the swap check only checks which volume is attached.
   */
  guestWrite?(instance: InstanceRef, offset: number, data: Uint8Array): Promise<void>;
  guestRead?(instance: InstanceRef, offset: number, length: number): Promise<Uint8Array>;
  readBacking?(offset: number, length: number): Promise<Uint8Array>;
}

export type VolumeKind = 'file' | 'nbd' | 'iscsi' | 'iscsiChap';

export interface ContractOptions {
  /** Shown in check names. */
  label: string;
  image: ImageMeta;
  /** An image whose spawn fails (default: one whose disk path does not exist). */
  badImage?: ImageMeta;
  flavor?: Flavor;
  resizeFlavor?: Flavor;
  evidence: {
    dir: string;
    mode: EvidenceMode;
    /** Evidence file name; default `<driver>`. */
    file?: string;
    backend(driver: ComputeDriver): Promise<EvidenceFile['backend']>;
  };
  /** Per-check timeout (ms). */
  timeoutMs?: number;
  guest?: GuestProbe;
  volumes?: Partial<Record<VolumeKind, () => Promise<VolumeFixture>>>;
  /** What is left of an instance on the backend (domains, files); a failed spawn must leave nothing. */
  leftovers?(instance: InstanceRef): Promise<string[]>;
  /** Waits until a freshly (re)started guest can be probed. */
  waitForGuest?(driver: ComputeDriver, instance: InstanceRef): Promise<void>;
}
