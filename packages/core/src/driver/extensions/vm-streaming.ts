import type { InstanceRef } from '../../model/instance.js';
import type { ComputeDriver } from '../compute-driver.js';

/**
 * Statuses as Nova/cobalt show them. `DELETED` is what a gone instance reports to `waitForStatus`
 * (the seed's `wait_until_gone`); `get` of a gone id throws NotFoundError instead.
 */
export type VmsStatus = 'ACTIVE' | 'BUILD' | 'BLESSED' | 'PAUSED' | 'SHUTOFF' | 'MIGRATING' | 'DELETING' | 'ERROR' | 'DELETED';

/** Any instance VMS hands out: a plain server, a live image or a launched clone. */
export interface VmsServer extends InstanceRef {
  status: VmsStatus;
  blessedFrom?: string;
  launchedFrom?: string;
  /** Deletes the instance. A live image refuses ("Cannot delete a live image … discard it instead"). */
  delete(): Promise<void>;
}

/** A blessed instance: a live image clones launch from. It uses no CPU or RAM. */
export interface LiveImage extends VmsServer {
  status: 'BLESSED';
  blessedFrom: string;
  /** `shared`: clones map the blessed RAM copy-on-write; `copy`: each clone loads a full RAM image. */
  mode: 'shared' | 'copy';
  createdAt: string;
  /** How long bless paused the source, in ms. */
  pauseMs?: number;
  launch(options?: LaunchOptions): Promise<LaunchedInstance[]>;
  listLaunched(): Promise<LaunchedInstance[]>;
  discard(): Promise<void>;
}

export interface LaunchedInstance extends VmsServer {
  launchedFrom: string;
}

export interface BlessOptions {
  name?: string;
  /** Override the host's mode for this image; `shared` fails if the source cannot be shared. */
  mode?: 'shared' | 'copy';
  /** Fraction of the guest's RAM and disk copied into the live image (a large RAM takes a while). */
  onProgress?: (fraction: number) => void;
}

export interface LaunchOptions {
  name?: string;
  /** Gridcentric memory string (`512mb`, `1GB`, bare bytes): the clone's host-side memory target. */
  target?: string;
  params?: Record<string, string>;
  count?: number;
}

/** What `gc` cleaned up after crashed or interrupted runs. */
export interface VmsGcReport {
  /** Artifacts, records and domains removed. */
  removed: string[];
  /** Sources a crashed bless had left paused, resumed. */
  resumed: string[];
}

/** Gridcentric VMS / cobalt, as a driver extension (capability ids `vms.*`). */
export interface VmStreaming {
  bless(instanceId: string, options?: BlessOptions): Promise<LiveImage>;
  launch(blessedId: string, options?: LaunchOptions): Promise<LaunchedInstance[]>;
  discard(blessedId: string): Promise<void>;
  listBlessed(instanceId: string): Promise<LiveImage[]>;
  listLaunched(blessedId: string): Promise<LaunchedInstance[]>;
  migrate(instanceId: string, destHost: string): Promise<void>;
  waitForStatus(id: string, status: VmsStatus, options?: { timeoutMs?: number }): Promise<VmsServer | undefined>;
  /** The current view of an instance or live image (the seed's `gridcentric.get(id)`); NotFoundError if gone. */
  get(id: string): Promise<VmsServer>;
  /** Removes what killed bless/launch runs left behind; every mutating call also does this first. */
  gc(): Promise<VmsGcReport>;
}

export function hasVmStreaming(driver: ComputeDriver): driver is ComputeDriver & { vms: VmStreaming } {
  return typeof (driver as { vms?: unknown }).vms === 'object' && (driver as { vms?: unknown }).vms !== null;
}
