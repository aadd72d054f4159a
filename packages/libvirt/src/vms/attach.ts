import { dirname } from 'node:path';
import type { DestroyOptions, InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { createVms } from './index.js';
import type { LibvirtMemoryImages } from './memory-images.js';
import type { LibvirtVmStreaming } from './vm-streaming.js';

interface Attachable {
  internals(): LibvirtDriverDeps;
  destroy(ref: InstanceRef, options?: DestroyOptions): Promise<void>;
  vms?: unknown;
  memoryImages?: unknown;
}

export interface AttachOptions {
  /** [DEFAULT] state_path. */
  statePath?: string;
  /** tmpfs directory for RAM files (default [libvirt] vms_ram_dir, else /dev/shm/virtplug-vms). */
  ramDir?: string;
  /** Sockets and FIFOs (default /run/virtplug-vms). */
  runDir?: string;
}


/**
 * Wires VMS into a LibvirtDriver: `driver.vms` and `driver.memoryImages`. The driver calls this once
 * in its constructor (the marked spot in driver.ts). `statePath` is [DEFAULT] state_path; without it,
 * the parent of instances_path is used (which is state_path unless instances_path was moved).
 */
export function attachVms(driver: Attachable, options: AttachOptions = {}): { vms: LibvirtVmStreaming; memoryImages: LibvirtMemoryImages } {
  const deps = driver.internals();
  const ramDir = options.ramDir ?? (deps.config as { vms_ram_dir?: string }).vms_ram_dir;
  const { vms, memoryImages } = createVms({
    uri: deps.uri.uri,
    runner: deps.runner,
    logger: deps.logger.child({ component: 'vms' }),
    statePath: options.statePath ?? dirname(deps.config.instances_path),
    mode: deps.config.vms_mode,
    ...(ramDir ? { ramDir } : {}),
    ...(options.runDir ? { runDir: options.runDir } : {}),
    virsh: deps.virsh,
    transport: deps.transport,
    qemuImg: deps.qemuImg,
    agent: (socketPath, label) => deps.agentAt(socketPath, label),
    destroyInstance: (ref) => driver.destroy(ref),
    timeouts: { opMs: deps.config.op_timeout_seconds * 1000 },
  });
  driver.vms = vms;
  driver.memoryImages = memoryImages;
  // The driver's spawn, resize and destroy call these (shared-mode RAM file; "discard it instead"; clone files).
  (deps as { vmsHooks?: unknown }).vmsHooks = vms;
  return { vms, memoryImages };
}
