import { join } from 'node:path';
import type { ComputeDriver, Flavor, GuestAgentAccess, InstanceRef, MemoryImage, MemoryImages } from '@virtplug/core';
import { InstanceDirs, type InstanceRecord } from '../instances.js';
import { currentOwner } from '../util/workdir.js';

export type CloudletDriver = ComputeDriver & { memoryImages: MemoryImages } & GuestAgentAccess;

export function flavorFor(image: Pick<MemoryImage, 'descriptor' | 'ramBytes'>): Flavor {
  const vcpu = /<vcpu[^>]*>\s*(\d+)\s*<\/vcpu>/.exec(image.descriptor);
  return { name: 'cloudlet', memoryMb: Math.round(image.ramBytes / (1 << 20)), vcpus: vcpu ? Number(vcpu[1]) : 1, rootGb: 0 };
}

export interface LaunchInput {
  uuid: string;
  name: string;
  baseId: string;
  origin: InstanceRecord['origin'];
  image: MemoryImage;
  /** The instance dir (already holding the image files); the instance's own disk layer goes here. */
  dir: string;
  agentTimeoutMs: number;
  /** The instance's RAM file: `copy` of a base (immutable), or `move` of a rebuilt one. Owned RAM keeps it capturable. */
  ownRam?: 'copy' | 'move';
}

/**
 * Restores an image as a new instance: the driver gives it a new name, UUID and MAC and re-identifies
 * the guest through its agent (hostname, machine-id); we wait for that agent and read the identity. The record says `launching` until the agent answered, so a
 * process killed in between is undone by the next cleanup.
 */
export async function launch(driver: CloudletDriver, instances: InstanceDirs, input: LaunchInput): Promise<{ ref: InstanceRef; identity: Record<string, unknown>; restoreMs: number; agentMs: number }> {
  const rec: InstanceRecord = {
    uuid: input.uuid,
    name: input.name,
    base_id: input.baseId,
    origin: input.origin,
    phase: 'launching',
    owner: currentOwner(`launch ${input.name}`),
    created_at: new Date().toISOString(),
  };
  await instances.write(rec);
  const t0 = performance.now();
  let ref: InstanceRef | null = null;
  try {
    ref = await driver.memoryImages.restore(
      input.image,
      { uuid: input.uuid, name: input.name, flavor: flavorFor(input.image), hostname: input.name },
      { diskPath: join(input.dir, 'active.qcow2'), ownRam: input.ownRam ?? 'copy' },
    );
    const t1 = performance.now();
    // restore() re-identifies the guest (MAC, hostname, machine-id) through the agent; here we only
    // wait until that agent answers, which is the moment the instance is usable.
    // The client belongs to the driver (one per instance), so it is not closed here.
    const agent = driver.guestAgent(ref);
    await agent.waitReady(input.agentTimeoutMs);
    const identity = await agent.request('identity');
    const t2 = performance.now();
    await instances.write({ ...rec, phase: 'running', owner: null });
    return { ref, identity, restoreMs: t1 - t0, agentMs: t2 - t1 };
  } catch (e) {
    await driver.destroy(ref ?? { uuid: input.uuid, name: input.name }).catch(() => undefined);
    throw e;
  }
}
