import type { GuestAgentClient, InstanceRef, ProcessRunner } from '@virtplug/core';
import type { Logger } from 'pino';
import { join } from 'node:path';
import { AgentClient } from '../agent/client.js';
import { QemuImg } from '../storage/qemu-img.js';
import type { LibvirtTransport } from '../transport/port.js';
import { VirshTransport } from '../transport/virsh.js';
import type { VmsContext, VmsTimeouts } from './context.js';
import { FifoStock } from './fifos.js';
import { VmsLayout } from './layout.js';
import { LibvirtMemoryImages } from './memory-images.js';
import { ManifestStore, type VmsMode } from './records.js';
import { LibvirtVmStreaming } from './vm-streaming.js';

export { LibvirtVmStreaming, type LibvirtLaunchedInstance, type LibvirtLiveImage } from './vm-streaming.js';
export { LibvirtMemoryImages } from './memory-images.js';
export { parseMemoryTarget, targetToSoftLimitKiB, PAGE_BYTES } from './memory-string.js';
export { validateParams, parseParamPairs, MAX_PARAMS_BYTES } from './params.js';
export { parseSaveImageHead, readSaveImageHead, buildSaveImageHead, SAVE_MAGIC, HEADER_BYTES } from './save-image.js';
export { makeSharedTemplate, readRamBackend, RAM_BACKEND_ID } from './shared-ram.js';
export { vmsCapabilities } from './capabilities.js';
export type { VmsMode } from './records.js';

export const DEFAULT_RAM_DIR = '/dev/shm/virtplug-vms';
export const DEFAULT_RUN_DIR = '/run/virtplug-vms';

export interface VmsDeps {
  uri: string;
  runner: ProcessRunner;
  logger: Logger;
  /** [DEFAULT] state_path; live images go to `<statePath>/vms`. */
  statePath: string;
  /** [libvirt] vms_mode. */
  mode: VmsMode;
  /** tmpfs for RAM files ([libvirt] vms_ram_dir). */
  ramDir?: string;
  runDir?: string;
  virsh?: VirshTransport;
  /** The driver's routed transport (binding where it serves the call); virsh when absent. */
  transport?: LibvirtTransport;
  qemuImg?: QemuImg;
  agent?: (socketPath: string, label: string) => GuestAgentClient;
  /** The driver's destroy, so `server.delete()` removes its records too. */
  destroyInstance?: (ref: InstanceRef) => Promise<void>;
  timeouts?: Partial<VmsTimeouts>;
}

/** Builds the VMS extension objects the libvirt driver attaches as `driver.vms` and `driver.memoryImages`. */
export function createVms(deps: VmsDeps): { vms: LibvirtVmStreaming; memoryImages: LibvirtMemoryImages; context: VmsContext } {
  const timeouts: VmsTimeouts = { opMs: 60_000, restoreMs: 180_000, agentMs: 60_000, migrateMs: 300_000, ...deps.timeouts };
  const layout = new VmsLayout({ root: join(deps.statePath, 'vms'), ramDir: deps.ramDir ?? DEFAULT_RAM_DIR, runDir: deps.runDir ?? DEFAULT_RUN_DIR });
  const virsh = deps.virsh ?? new VirshTransport(deps.uri, deps.runner, timeouts.opMs);
  const context: VmsContext = {
    uri: deps.uri,
    virsh,
    transport: deps.transport ?? virsh,
    runner: deps.runner,
    qemuImg: deps.qemuImg ?? new QemuImg(deps.runner),
    layout,
    manifests: new ManifestStore(layout),
    fifos: new FifoStock(layout.paths.runDir, deps.runner),
    logger: deps.logger,
    mode: deps.mode,
    timeouts,
    agent: deps.agent ?? ((socketPath, label) => new AgentClient({ socketPath: async () => socketPath, label, defaultTimeoutMs: 15_000, logger: deps.logger })),
    ...(deps.destroyInstance ? { destroyInstance: deps.destroyInstance } : {}),
  };
  return { vms: new LibvirtVmStreaming(context), memoryImages: new LibvirtMemoryImages(context), context };
}
