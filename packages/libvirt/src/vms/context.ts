import type { GuestAgentClient, InstanceRef, ProcessRunner } from '@virtplug/core';
import type { Logger } from 'pino';
import type { QemuImg } from '../storage/qemu-img.js';
import type { LibvirtTransport } from '../transport/port.js';
import type { VirshTransport } from '../transport/virsh.js';
import type { FifoStock } from './fifos.js';
import type { VmsLayout } from './layout.js';
import type { ManifestStore, VmsMode } from './records.js';

export interface VmsTimeouts {
  /** One virsh call. */
  opMs: number;
  /** One clone restore (libvirt + QEMU start + stream). */
  restoreMs: number;
  /** The clone's agent answering after resume. */
  agentMs: number;
  /** gc-migrate of one instance. */
  migrateMs: number;
}

/** Everything the VMS operations share; built once by createVms from the driver's internals. */
export interface VmsContext {
  uri: string;
  /** virsh for commands the transport port does not model (`virsh.run([...])`). */
  virsh: VirshTransport;
  /** The driver's routed transport for every modelled call: routes.ts picks the binding (no process) where it can. */
  transport: LibvirtTransport;
  runner: ProcessRunner;
  qemuImg: QemuImg;
  layout: VmsLayout;
  manifests: ManifestStore;
  fifos: FifoStock;
  logger: Logger;
  /** The host's configured mode ([libvirt] vms_mode). */
  mode: VmsMode;
  timeouts: VmsTimeouts;
  agent(socketPath: string, label: string): GuestAgentClient;
  /** The driver's own delete (so its records go too); VMS falls back to destroy + undefine + files. */
  destroyInstance?: (ref: InstanceRef) => Promise<void>;
}
