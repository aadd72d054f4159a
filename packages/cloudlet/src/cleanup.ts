import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComputeDriver, InstanceRef } from '@virtplug/core';
import { InstanceDirs } from './instances.js';
import type { WorkDirs } from './util/workdir.js';

export interface CleanupReport {
  removedWorkDirs: number;
  destroyedInstances: string[];
  removedInstanceDirs: number;
}

export interface CleanupDeps {
  driver: ComputeDriver | null;
  work: WorkDirs[];
  instances: InstanceDirs;
  ramDir: string | null;
}

/**
 * A launch killed mid-restore can leave the hypervisor finishing (or failing) that restore for a
 * moment after its process died; destroy until the instance stays gone.
 */
async function destroyAbandoned(d: ComputeDriver, ref: InstanceRef): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await d.destroy(ref).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    const exists = await d.instanceExists(ref).catch(() => false);
    if (!exists || Date.now() > deadline) return;
  }
}

/**
 * Work dirs of dead owners go (with the RAM file their journal names); instance dirs whose launch
 * died are undone (the instance destroyed, its RAM file removed); instance dirs whose instance the
 * driver no longer knows go too.
 */
export async function cleanupCloudlet(deps: CleanupDeps): Promise<CleanupReport> {
  let removedWorkDirs = 0;
  for (const w of deps.work) {
    for (const s of await w.stale()) {
      const ram = s.journal?.ram;
      if (typeof ram === 'string' && ram.endsWith('.ram')) await rm(ram, { force: true });
      await s.dir.remove();
      removedWorkDirs++;
    }
  }
  const destroyed: string[] = [];
  let removedDirs = 0;
  const d = deps.driver;
  for (const { uuid, record } of await deps.instances.list()) {
    if (InstanceDirs.abandoned(record)) {
      if (d && record) {
        await destroyAbandoned(d, { uuid, name: record.name });
        destroyed.push(record.name);
      }
      if (deps.ramDir) await rm(join(deps.ramDir, `${uuid}.ram`), { force: true });
      await deps.instances.remove(uuid);
      removedDirs++;
    } else if (d && record && !(await d.instanceExists({ uuid, name: record.name }).catch(() => true))) {
      await deps.instances.remove(uuid);
      removedDirs++;
    }
  }
  return { removedWorkDirs, destroyedInstances: destroyed, removedInstanceDirs: removedDirs };
}
