import type { InstanceRef } from '../../model/instance.js';
import type { ComputeDriver } from '../compute-driver.js';

/** A blessed instance: a live image clones launch from. It uses no CPU or RAM. */
export interface LiveImage extends InstanceRef {
  status: 'BLESSED';
  blessedFrom: string;
  /** `shared`: clones map the blessed RAM copy-on-write; `copy`: each clone loads a full RAM image. */
  mode: 'shared' | 'copy';
  createdAt: string;
}

export interface LaunchedInstance extends InstanceRef {
  launchedFrom: string;
  status: string;
}

export interface BlessOptions {
  name?: string;
}

export interface LaunchOptions {
  name?: string;
  /** Gridcentric memory string (`512mb`, `1GB`, bare bytes): the clone's host-side memory target. */
  target?: string;
  params?: Record<string, string>;
  count?: number;
}

/** Gridcentric VMS / cobalt, as a driver extension (capability ids `vms.*`). */
export interface VmStreaming {
  bless(instanceId: string, options?: BlessOptions): Promise<LiveImage>;
  launch(blessedId: string, options?: LaunchOptions): Promise<LaunchedInstance[]>;
  discard(blessedId: string): Promise<void>;
  listBlessed(instanceId: string): Promise<LiveImage[]>;
  listLaunched(blessedId: string): Promise<LaunchedInstance[]>;
  migrate(instanceId: string, destHost: string): Promise<void>;
  waitForStatus(id: string, status: string, options?: { timeoutMs?: number }): Promise<void>;
}

export function hasVmStreaming(driver: ComputeDriver): driver is ComputeDriver & { vms: VmStreaming } {
  return typeof (driver as { vms?: unknown }).vms === 'object' && (driver as { vms?: unknown }).vms !== null;
}
