import type { ComputeDriver, InstanceRef, NbdConnectionInfo } from '@virtplug/core';
import type { Logger } from 'pino';
import type { IoHypAgentApi } from '../agent/client.js';
import type { RouterSettings } from '../config.js';
import type { OptInStore } from './opt-ins.js';
import type { AttachStep, RouteRecord } from './record.js';
import type { RouteStore } from './store.js';

/** A test seam: called around each attach step; throwing from it fails that step. */
export type FaultHook = (step: AttachStep, phase: 'before' | 'after', record: Readonly<RouteRecord>) => void | Promise<void>;

/** What the steps of a route work with. */
export interface RouteContext {
  inner: ComputeDriver;
  settings: RouterSettings;
  routes: RouteStore;
  optIns: OptInStore;
  agent(name: string): IoHypAgentApi;
  logger: Logger;
  faults?: FaultHook;
}

export function instanceRef(r: RouteRecord): InstanceRef {
  return { uuid: r.instance.uuid, name: r.instance.name };
}

/** The export as the wrapped driver sees it: an NBD network disk (our `driver_volume_type: 'nbd'`). */
export function nbdConnectionInfo(r: RouteRecord): NbdConnectionInfo {
  if (!r.export) throw new Error(`route ${r.attachmentId} has no export`);
  return { driverVolumeType: 'nbd', volumeId: r.volumeId, data: { host: r.export.host, port: r.export.port, exportName: r.export.name } };
}
