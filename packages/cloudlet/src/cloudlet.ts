import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  InvalidStateError,
  UnsupportedOperationError,
  type InstanceRef,
  type MemoryImage,
  type ProcessRunner,
  hasGuestAgent,
  hasMemoryImages,
  readCaFile,
  readServerTls,
  type ServerTls,
  type ComputeDriver,
} from '@virtplug/core';
import { exportPackage, installCaptured, installPackage, resumeFromBase } from './base/operations.js';
import { BaseStore, type BaseRecord } from './base/store.js';
import type { CloudletSettings } from './config.js';
import { QemuImg } from './disk/qemu-img.js';
import { cleanupCloudlet, type CleanupReport } from './cleanup.js';
import { InstanceDirs } from './instances.js';
import { createOverlay, type CreatedOverlay, type OverlayReference, type Progress } from './overlay/create.js';
import { loadHashIndex, type HashIndex } from './overlay/dedup.js';
import { CompressionPool } from './overlay/pool.js';
import { readOverlayHeader, readOverlayHeaderFromUrl, verifyOverlayFile } from './overlay/verify.js';
import { downloadOverlay, type DownloadOptions } from './serve/download.js';
import { serveOverlays, type RunningServer, type ServeOptions } from './serve/server.js';
import { handoff, type HandoffOptions, type HandoffResult } from './handoff/sender.js';
import { startReceiver, type ReceiverOptions, type RunningReceiver } from './handoff/receiver.js';
import type { CloudletDriver } from './synthesis/launch.js';
import { synthesize, SynthesisSession, type SynthesisDeps, type SynthesisOptions, type SynthesisResult } from './synthesis/synthesize.js';
import { WorkDirs, type WorkDir } from './util/workdir.js';

export interface CloudletOptions {
  runner?: ProcessRunner;
}

export interface CreateOverlayOptions {
  dest: string;
  /** The base the instance was resumed from; read from the instance record when omitted. */
  baseId?: string;
  onProgress?: (p: Progress) => void;
  kind?: 'overlay' | 'residue';
  compression?: 'zstd' | 'xz';
  level?: number;
  reference?: OverlayReference;
}

export interface OverlayResult extends CreatedOverlay {
  captureMs: number;
}

/**
 * The cloudlet facade (OpenStack++ on stock QEMU): bases, overlays, synthesis, serving, handoff.
 * It reaches the hypervisor only through the core interfaces MemoryImages and GuestAgentAccess.
 */
export class Cloudlet {
  readonly store: BaseStore;
  readonly work: WorkDirs;
  readonly instances: InstanceDirs;
  readonly qemu: QemuImg;
  private poolInstance: CompressionPool | null = null;
  private readonly indexes = new Map<string, Promise<{ memory: HashIndex; disk: HashIndex }>>();

  constructor(
    private readonly drv: ComputeDriver | null,
    readonly settings: CloudletSettings,
    opts: CloudletOptions = {},
  ) {
    this.store = new BaseStore(settings.base_dir);
    this.work = new WorkDirs(join(settings.base_dir, 'tmp'));
    this.instances = new InstanceDirs(settings.base_dir);
    this.qemu = new QemuImg(opts.runner);
  }

  /** [cloudlet] tls_cert_file + tls_key_file, for serve and handoff-recv (undefined: plain HTTP). */
  serverTls(): ServerTls | undefined {
    return readServerTls('cloudlet', this.settings.tls_cert_file, this.settings.tls_key_file);
  }

  /** The CA bundle of [cloudlet] tls_ca_file for https URLs, unless the caller gave one. */
  private withCa<T extends { ca?: string }>(opts: T): T {
    if (opts.ca !== undefined) return opts;
    const ca = readCaFile('cloudlet', this.settings.tls_ca_file);
    return ca ? { ...opts, ca } : opts;
  }

  get pool(): CompressionPool {
    return (this.poolInstance ??= new CompressionPool(this.settings.workers));
  }

  /** The driver, checked for the two extensions the cloudlet needs. */
  get driver(): CloudletDriver {
    const d = this.drv;
    if (!d) throw new InvalidStateError('This cloudlet operation needs a compute driver; configure [DEFAULT] compute_driver = libvirt.');
    if (!hasMemoryImages(d)) throw new UnsupportedOperationError(d.name, 'cloudlet (memory images)', 'the driver cannot capture/restore memory images');
    if (!hasGuestAgent(d)) throw new UnsupportedOperationError(d.name, 'cloudlet (guest agent)', 'the driver exposes no guest agent');
    return d as CloudletDriver;
  }

  async close(): Promise<void> {
    await this.poolInstance?.close();
    this.poolInstance = null;
  }

  // ---- bases -------------------------------------------------------------------------------

  listBases(): Promise<BaseRecord[]> {
    return this.store.list();
  }

  getBase(id: string): Promise<BaseRecord> {
    return this.store.get(id);
  }

  /** elijah's create-base: capture a running instance as a new base VM. */
  async createBase(instance: InstanceRef, name: string): Promise<BaseRecord> {
    const [work, cap] = [await this.work.create('base'), await this.captureWork('capture')];
    try {
      return await installCaptured(await this.driver.memoryImages.capture(instance, cap.file('image')), name, work, this.store, this.qemu);
    } finally {
      await cap.remove();
      await work.remove();
    }
  }

  async importBase(pkg: string): Promise<BaseRecord> {
    const work = await this.work.create('import');
    try {
      return await installPackage(pkg, work, this.store, this.qemu);
    } finally {
      await work.remove();
    }
  }

  async exportBase(id: string, dest: string): Promise<{ path: string; bytes: number }> {
    const base = await this.store.get(id);
    const work = await this.work.create('export');
    try {
      return await exportPackage(base, dest, work, this.qemu);
    } finally {
      await work.remove();
    }
  }

  async removeBase(id: string): Promise<void> {
    const base = await this.store.get(id);
    const users = (await this.instances.list()).filter((i) => i.record?.base_id === base.id);
    if (users.length) {
      throw new InvalidStateError(`Base ${base.id} is used by ${users.length} instance(s) (${users.map((u) => u.record!.name).join(', ')}); destroy them first.`);
    }
    this.indexes.delete(base.id);
    await this.store.remove(base.id);
  }

  /** Starts an instance from the base memory (resumed, not booted). */
  async resumeBase(id: string, opts: { name?: string; agentTimeoutMs?: number } = {}): Promise<InstanceRef> {
    const deps = { driver: this.driver, instances: this.instances, agentTimeoutMs: opts.agentTimeoutMs ?? this.settings.agent_timeout_ms };
    return resumeFromBase(deps, await this.store.get(id), opts.name);
  }

  // ---- overlays ----------------------------------------------------------------------------

  hashIndexes(base: BaseRecord): Promise<{ memory: HashIndex; disk: HashIndex }> {
    let p = this.indexes.get(base.id);
    if (!p) {
      p = Promise.all([loadHashIndex(base.memoryHashesPath), loadHashIndex(base.diskHashesPath)]).then(([memory, disk]) => ({ memory, disk }));
      p.catch(() => this.indexes.delete(base.id));
      this.indexes.set(base.id, p);
    }
    return p;
  }

  async baseOf(instance: InstanceRef, given?: string): Promise<BaseRecord> {
    if (given) return this.store.get(given);
    const rec = await this.instances.read(instance.uuid);
    if (!rec) {
      throw new InvalidArgumentError('instance', instance.name, 'an instance this cloudlet resumed or synthesized from a base (or pass the base id)');
    }
    return this.store.get(rec.base_id);
  }

  /** Overlay from a captured image (no VM involved): the pipeline on its own. */
  async overlayFromImage(base: BaseRecord, image: MemoryImage, opts: CreateOverlayOptions): Promise<CreatedOverlay> {
    const work = await this.captureWork('overlay');
    try {
      const compression = opts.compression ?? this.settings.compression;
      const level = opts.level ?? (compression === 'zstd' ? this.settings.zstd_level : this.settings.xz_preset);
      return await createOverlay(base, image, opts.dest, {
        pool: this.pool,
        qemu: this.qemu,
        work,
        compression,
        level,
        blobSize: this.settings.blob_size,
        xor: this.settings.delta === 'xor',
        kind: opts.kind,
        ...(opts.reference ? { reference: opts.reference } : {}),
        indexes: await this.hashIndexes(base),
        onProgress: opts.onProgress,
      });
    } finally {
      await work.remove();
    }
  }

  /**
   * A work dir for captures: on tmpfs (`ram_dir`) when there is one, so the driver's RAM copy and
   * our scan of it never touch the disk. The dir is removed after use: the libvirt capture copies
   * the RAM and the disk's top layer, so nothing running depends on it.
   */
  async captureWork(purpose: string): Promise<WorkDir> {
    const fast = await this.ramDir();
    return (fast ? new WorkDirs(join(fast, 'tmp')) : this.work).create(purpose);
  }

  /** Captures a running instance resumed from a base and writes its overlay. */
  async createOverlay(instance: InstanceRef, opts: CreateOverlayOptions): Promise<OverlayResult> {
    const base = await this.baseOf(instance, opts.baseId);
    await this.hashIndexes(base);
    const cap = await this.captureWork('capture');
    try {
      const t0 = performance.now();
      const image = await this.driver.memoryImages.capture(instance, cap.file('image'));
      const captureMs = performance.now() - t0;
      const created = await this.overlayFromImage(base, image, opts);
      return { ...created, captureMs };
    } finally {
      await cap.remove();
    }
  }

  /** The manifest of an overlay file, or of a served one (URL: only the header is fetched, by Range). */
  infoOverlay(pathOrUrl: string, opts: { token?: string; ca?: string } = {}) {
    return /^https?:\/\//i.test(pathOrUrl) ? readOverlayHeaderFromUrl(pathOrUrl, this.withCa(opts)) : readOverlayHeader(pathOrUrl);
  }

  /** Hashes, sizes, and (deep) every blob's items against its manifest. */
  verifyOverlay(path: string, deep = true) {
    return verifyOverlayFile(path, deep ? this.pool : undefined);
  }

  download(url: string, dest: string, opts: DownloadOptions = {}) {
    return downloadOverlay(url, dest, this.withCa(opts));
  }

  serve(opts: ServeOptions): Promise<RunningServer> {
    const tls = opts.tls ?? this.serverTls();
    return serveOverlays(tls ? { ...opts, tls } : opts);
  }

  // ---- synthesis ---------------------------------------------------------------------------

  private async synthesisDeps(): Promise<SynthesisDeps> {
    return {
      driver: this.driver,
      ramDir: await this.ramDir(),
      store: this.store,
      work: this.work,
      instances: this.instances,
      pool: this.pool,
      qemu: this.qemu,
      agentTimeoutMs: this.settings.agent_timeout_ms,
    };
  }

  async synthesize(opts: SynthesisOptions): Promise<SynthesisResult> {
    await this.cleanup();
    return synthesize(await this.synthesisDeps(), this.withCa(opts));
  }

  /** A synthesis fed overlay by overlay (the handoff receiver's pre-copy, then the final residue). */
  async openSynthesis(opts: { name?: string; baseId?: string }): Promise<SynthesisSession> {
    await this.cleanup();
    return SynthesisSession.open(await this.synthesisDeps(), opts);
  }

  // ---- handoff -----------------------------------------------------------------------------

  /** Moves a running instance to another cloudlet's handoff receiver (see handoff/sender.ts). */
  handoff(instance: InstanceRef, opts: HandoffOptions): Promise<HandoffResult> {
    return handoff(this, instance, this.withCa(opts));
  }

  /** Starts this cloudlet's handoff receiver (`virtplug cloudlet handoff-recv`). */
  handoffReceiver(opts: ReceiverOptions): Promise<RunningReceiver> {
    const tls = opts.tls ?? this.serverTls();
    return startReceiver(this, tls ? { ...opts, tls } : opts);
  }

  /** The tmpfs dir for rebuilt RAM (created on first use), or null when unset or unusable. */
  private async ramDir(): Promise<string | null> {
    const dir = this.settings.ram_dir;
    if (!dir) return null;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return dir;
    } catch {
      return null;
    }
  }

  /** Destroys an instance the cloudlet started and removes its files. */
  async destroyInstance(instance: InstanceRef): Promise<void> {
    await this.driver.destroy(instance);
    await this.instances.remove(instance.uuid);
  }

  /**
   * Undoes what killed runs left: work dirs of dead processes, and launches that never finished
   * (their instance is destroyed). Instances whose domain is gone lose their files too.
   */
  cleanup(): Promise<CleanupReport> {
    const fast = this.settings.ram_dir ? [new WorkDirs(join(this.settings.ram_dir, 'tmp'))] : [];
    return cleanupCloudlet({ driver: this.drv, work: [this.work, ...fast], instances: this.instances, ramDir: this.settings.ram_dir || null });
  }
}
