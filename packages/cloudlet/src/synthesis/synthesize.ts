import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceRef, MemoryImage } from '@virtplug/core';
import type { BaseStore } from '../base/store.js';
import type { QemuImg } from '../disk/qemu-img.js';
import { checkInstanceName, type InstanceDirs } from '../instances.js';
import type { OverlayManifest } from '../overlay/manifest.js';
import { machineFromManifest } from '../overlay/manifest.js';
import type { CompressionPool } from '../overlay/pool.js';
import type { WorkDir, WorkDirs } from '../util/workdir.js';
import { launch, type CloudletDriver } from './launch.js';
import { StagedRebuild, type RebuildProgress, type Rebuilt } from './pipeline.js';
import { openSource, type OpenedSource } from './source.js';

export interface SynthesisProgress {
  phase: RebuildProgress['phase'] | 'launch';
  done: number;
  total: number;
}

export interface SynthesisOptions {
  /** Overlay URL or file, or an already open stream (handoff). */
  source: string | OpenedSource;
  token?: string;
  /** PEM CA bundle trusted for an https overlay URL (the Cloudlet facade fills in [cloudlet] tls_ca_file). */
  ca?: string;
  name?: string;
  /** Refuse unless the overlay was made from this base. */
  baseId?: string;
  origin?: 'synthesis' | 'handoff';
  onProgress?: (p: SynthesisProgress) => void;
  signal?: AbortSignal;
}

export interface SynthesisResult {
  instance: InstanceRef;
  manifest: OverlayManifest;
  dir: string;
  timings: { rebuild_ms: number; restore_ms: number; agent_ms: number; total_ms: number; rebuild: Rebuilt['timings'] };
}

export interface SynthesisDeps {
  driver: CloudletDriver;
  /** Directory for rebuilt RAM images (tmpfs), or null for the work dir. */
  ramDir: string | null;
  store: BaseStore;
  work: WorkDirs;
  instances: InstanceDirs;
  pool: CompressionPool;
  qemu: QemuImg;
  agentTimeoutMs: number;
}

/**
 * One synthesis in progress: its work dir (journaled, so cleanup() can undo a killed run), the RAM
 * file it rebuilds (on tmpfs when the cloudlet has a ram_dir) and the staged rebuild. A handoff's
 * receiver keeps one open between the pre-copy round and the final residue.
 */
export class SynthesisSession {
  readonly t0 = performance.now();
  private constructor(
    private readonly deps: SynthesisDeps,
    readonly uuid: string,
    readonly name: string,
    readonly work: WorkDir,
    readonly ramPath: string,
    readonly staged: StagedRebuild,
  ) {}

  static async open(deps: SynthesisDeps, opts: { name?: string; baseId?: string }): Promise<SynthesisSession> {
    const uuid = randomUUID();
    const name = opts.name ?? `cloudlet-${uuid.slice(0, 8)}`;
    checkInstanceName(name);
    const host = await deps.driver.memoryImages.machineSignature();
    const work = await deps.work.create('synth');
    // On tmpfs the driver takes the rebuilt RAM over with a rename (restore ownRam: 'move').
    const ramPath = deps.ramDir ? join(deps.ramDir, `${uuid}.ram`) : work.file('memory.ram');
    await work.journal({ uuid, name, ram: ramPath });
    const staged = new StagedRebuild({ store: deps.store, pool: deps.pool, qemu: deps.qemu, work, expectBase: opts.baseId, host, ramPath });
    return new SynthesisSession(deps, uuid, name, work, ramPath, staged);
  }

  /** Finishes the rebuild and launches the instance; on failure everything is removed. */
  async launch(origin: 'synthesis' | 'handoff', onProgress?: SynthesisOptions['onProgress']): Promise<SynthesisResult> {
    const { deps, uuid, name } = this;
    let dir: string | null = null;
    try {
      const built = await this.staged.finish();
      const t1 = performance.now();
      onProgress?.({ phase: 'launch', done: 0, total: 1 });
      // From here the files live where the instance will run from; the record tracks the launch.
      dir = await deps.instances.adopt(this.work.path, uuid);
      const image: MemoryImage = {
        ramPath: deps.ramDir ? this.ramPath : join(dir, 'memory.ram'),
        ramBytes: built.manifest.memory_bytes,
        statePath: join(dir, 'state.bin'),
        diskPath: join(dir, 'disk.qcow2'),
        diskFormat: 'qcow2',
        machine: machineFromManifest(built.manifest.machine),
        descriptor: built.manifest.descriptor,
      };
      const l = await launch(deps.driver, deps.instances, { uuid, name, baseId: built.manifest.base_id, origin, image, dir, agentTimeoutMs: deps.agentTimeoutMs, ownRam: 'move' });
      onProgress?.({ phase: 'launch', done: 1, total: 1 });
      return {
        instance: l.ref,
        manifest: built.manifest,
        dir,
        timings: { rebuild_ms: t1 - this.t0, restore_ms: l.restoreMs, agent_ms: l.agentMs, total_ms: performance.now() - this.t0, rebuild: built.timings },
      };
    } catch (e) {
      await this.abort();
      if (dir) await deps.instances.remove(uuid);
      throw e;
    }
  }

  async abort(): Promise<void> {
    await this.staged.abort();
    await rm(this.ramPath, { force: true });
    await this.work.remove();
  }
}

/**
 * VM synthesis: stream the overlay, rebuild RAM and disk on the base, launch. Anything refused or
 * failed removes its files and any instance it started; a killed run is undone by cleanup().
 */
export async function synthesize(deps: SynthesisDeps, opts: SynthesisOptions): Promise<SynthesisResult> {
  const src = typeof opts.source === 'string' ? await openSource(opts.source, { token: opts.token, signal: opts.signal, ...(opts.ca ? { ca: opts.ca } : {}) }) : opts.source;
  let session: SynthesisSession | null = null;
  try {
    session = await SynthesisSession.open(deps, { ...(opts.name ? { name: opts.name } : {}), ...(opts.baseId ? { baseId: opts.baseId } : {}) });
    await session.staged.apply(src.stream, { sourceBytes: src.bytes, final: true, onProgress: opts.onProgress });
  } catch (e) {
    src.stream.destroy();
    await session?.abort();
    throw e;
  }
  return session.launch(opts.origin ?? 'synthesis', opts.onProgress);
}
