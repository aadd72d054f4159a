import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  InvalidStateError,
  NotFoundError,
  TimeoutError,
  hasErrorCode,
  type BlessOptions,
  type InstanceRef,
  type LaunchOptions,
  type LaunchedInstance,
  type LiveImage,
  type VmStreaming,
  type VmsGcReport,
  type VmsServer,
  type VmsStatus,
} from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import type { XmlElement } from '../xml/tree.js';
import { bless } from './bless.js';
import type { VmsContext } from './context.js';
import { discard } from './discard.js';
import { destroyDomain, domainState, findDomain, notFound, readVmsMetadata } from './domains.js';
import { gc } from './gc.js';
import { launch } from './launch.js';
import type { CloneRecord } from './launch-one.js';
import { FileLock } from './locks.js';
import { migrate } from './migrate.js';
import type { BlessedManifest } from './records.js';
import { makeSharedTemplate, readRamBackend, setRamBackend } from './shared-ram.js';

/** What launch returns on libvirt: the core view plus what the clone's agent reported. */
export interface LibvirtLaunchedInstance extends LaunchedInstance {
  macs: string[];
  hostname: string;
  identity: Record<string, unknown>;
  launchMs: number;
  restoreMs: number;
}

export interface LibvirtLiveImage extends LiveImage {
  artifacts: BlessedManifest['artifacts'];
  launch(options?: LaunchOptions): Promise<LibvirtLaunchedInstance[]>;
}

/**
 * core's VmStreaming on libvirt: the table of contents. The operations live in bless.ts, launch.ts,
 * discard.ts, migrate.ts and gc.ts; this class resolves ids, turns records into the objects the
 * scripting API hands out (`blessed.launch()`, `server.delete()`…), and runs a gc pass before each
 * change, so whatever a killed run left behind goes at the latest with the next call.
 */
export class LibvirtVmStreaming implements VmStreaming {
  constructor(private readonly ctx: VmsContext) {}

  get mode(): VmsContext['mode'] {
    return this.ctx.mode;
  }

  async bless(instanceId: string, options: BlessOptions = {}): Promise<LibvirtLiveImage> {
    await this.sweep();
    return this.liveImage(await bless(this.ctx, instanceId, options));
  }

  async launch(blessedId: string, options: LaunchOptions = {}): Promise<LibvirtLaunchedInstance[]> {
    await this.sweep();
    const records = await launch(this.ctx, this.liveImageId(blessedId), options);
    return records.map((r) => this.launched(r));
  }

  async discard(blessedId: string): Promise<void> {
    await this.sweep();
    await discard(this.ctx, this.liveImageId(blessedId));
  }

  async listBlessed(instanceId: string): Promise<LibvirtLiveImage[]> {
    const all = this.ctx.manifests.all();
    const dom = await findDomain(this.ctx, instanceId);
    const uuid = dom?.uuid ?? instanceId;
    const mine = all.filter((m) => m.blessedFrom === uuid && m.status === 'blessed');
    // The source may be gone while its live images remain (cobalt's test_master_gone).
    if (!dom && mine.length === 0 && !all.some((m) => m.id === instanceId || m.blessedFrom === instanceId)) throw notFound(instanceId);
    return mine.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((m) => this.liveImage(m));
  }

  async listLaunched(blessedId: string): Promise<LaunchedInstance[]> {
    const m = this.ctx.manifests.read(this.liveImageId(blessedId));
    if (!m || m.status === 'discarded') {
      if (await findDomain(this.ctx, blessedId)) return [];
      throw notFound(blessedId);
    }
    const out: LaunchedInstance[] = [];
    for (const uuid of m.clones) {
      const dom = await findDomain(this.ctx, uuid);
      if (!dom) continue;
      out.push({ uuid, name: dom.name, status: await this.domainStatus(uuid), launchedFrom: m.id, delete: () => this.deleteInstance({ uuid, name: dom.name }) });
    }
    return out;
  }

  async migrate(instanceId: string, destHost: string): Promise<void> {
    await migrate(this.ctx, instanceId, destHost);
  }

  async get(id: string): Promise<VmsServer> {
    const m = this.ctx.manifests.read(this.liveImageId(id));
    if (m && m.status !== 'discarded') {
      if (m.status === 'blessed') return this.liveImage(m);
      return { uuid: m.id, name: m.name, status: m.status === 'blessing' ? 'BUILD' : 'DELETING', blessedFrom: m.blessedFrom, delete: () => this.refuseDelete(m.id) };
    }
    const dom = await findDomain(this.ctx, id);
    if (!dom) throw notFound(id);
    const meta = await readVmsMetadata(this.ctx, dom.uuid);
    return {
      uuid: dom.uuid,
      name: dom.name,
      status: await this.domainStatus(dom.uuid),
      ...(meta.clone ? { launchedFrom: meta.clone.launchedFrom } : {}),
      delete: () => this.deleteInstance(dom),
    };
  }

  async waitForStatus(id: string, status: VmsStatus, options: { timeoutMs?: number } = {}): Promise<VmsServer | undefined> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'unknown';
    for (;;) {
      try {
        const s = await this.get(id);
        last = s.status;
        if (s.status === status) return s;
      } catch (e) {
        if (!hasErrorCode(e, 'not_found')) throw e;
        last = 'DELETED';
        if (status === 'DELETED') return undefined;
      }
      if (Date.now() >= deadline) throw new TimeoutError(`waiting for ${id} to become ${status}`, timeoutMs, `it is ${last}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async gc(): Promise<VmsGcReport> {
    return gc(this.ctx);
  }

  /** The driver calls this first in destroy(): a live image is discarded, never deleted. */
  async beforeDestroy(ref: InstanceRef): Promise<void> {
    const m = this.ctx.manifests.read(ref.uuid);
    if (m && m.status !== 'discarded') this.refuseDelete(ref.uuid);
    const holder = FileLock.holder(this.ctx.layout.lock(ref.uuid));
    if (holder?.op === 'bless') throw new InvalidStateError('Cannot delete while blessing.', { id: ref.uuid });
  }

  /** The driver calls this after destroy(): the clone's overlays and sockets, a template's RAM file. */
  async afterDestroy(ref: InstanceRef): Promise<void> {
    await rm(this.ctx.layout.liveRam(ref.uuid), { force: true });
    await rm(this.ctx.layout.cloneRun(ref.uuid), { recursive: true, force: true });
    for (const m of this.ctx.manifests.all()) {
      if (m.clones.includes(ref.uuid)) await rm(this.ctx.layout.cloneDir(m.id, ref.uuid), { recursive: true, force: true });
    }
    await rm(this.ctx.layout.restoredDir(ref.uuid), { recursive: true, force: true });
  }

  /**
   * For the driver's spawn on a shared-mode host: the new domain's RAM becomes a shared file on tmpfs,
   * so it can be blessed without copying its memory into the save image.
   */
  prepareSpawnXml(domain: XmlElement, uuid: string): void {
    if (this.ctx.mode !== 'shared') return;
    const path = this.ctx.layout.liveRam(uuid);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    makeSharedTemplate(domain, path);
  }

  /**
   * A powered-off instance is redefined with a new <memory> (resize): our RAM backend object must match
   * it, and the old RAM file, whose content a stopped guest no longer needs, would have the old size.
   */
  prepareMemoryChange(domain: XmlElement): void {
    const backend = readRamBackend(domain);
    if (!backend) return;
    setRamBackend(domain, backend);
    if (backend.kind === 'file' && backend.share) rmSync(backend.path, { force: true });
  }

  /** `server.delete()`: through the driver when there is one (its records go too), else VMS's own. */
  async deleteInstance(ref: InstanceRef): Promise<void> {
    await this.beforeDestroy(ref);
    if (this.ctx.destroyInstance) await this.ctx.destroyInstance(ref);
    else await destroyDomain(this.ctx, ref.uuid);
    await this.afterDestroy(ref);
  }

  /** Live images are addressed by id; a unique live image name works too (CLI convenience). */
  private liveImageId(idOrName: string): string {
    if (this.ctx.manifests.read(idOrName)) return idOrName;
    const named = this.ctx.manifests.all().filter((m) => m.name === idOrName && m.status !== 'discarded');
    return named.length === 1 ? named[0]!.id : idOrName;
  }

  private refuseDelete(id: string): never {
    throw new InvalidStateError(`Cannot delete a live image ${id}. Please discard it instead.`, { id });
  }

  private async domainStatus(uuid: string): Promise<VmsStatus> {
    const meta = await readVmsMetadata(this.ctx, uuid).catch(() => ({}) as Awaited<ReturnType<typeof readVmsMetadata>>);
    if (meta.clone?.status === 'launching') return 'BUILD';
    if (FileLock.holder(this.ctx.layout.lock(uuid))?.op === 'migrate') return 'MIGRATING';
    const state = await domainState(this.ctx, uuid);
    switch (state) {
      case null:
        throw new NotFoundError('Instance', uuid);
      case DomainState.RUNNING:
      case DomainState.BLOCKED:
        return 'ACTIVE';
      case DomainState.PAUSED:
        return 'PAUSED';
      case DomainState.SHUTOFF:
      case DomainState.SHUTDOWN:
        return 'SHUTOFF';
      case DomainState.CRASHED:
        return 'ERROR';
      default:
        return 'BUILD';
    }
  }

  private liveImage(m: BlessedManifest): LibvirtLiveImage {
    return {
      uuid: m.id,
      name: m.name,
      status: 'BLESSED',
      blessedFrom: m.blessedFrom,
      mode: m.mode,
      createdAt: m.createdAt,
      ...(m.pauseMs !== undefined ? { pauseMs: m.pauseMs } : {}),
      artifacts: m.artifacts,
      launch: (o?: LaunchOptions) => this.launch(m.id, o),
      listLaunched: () => this.listLaunched(m.id),
      discard: () => this.discard(m.id),
      delete: async () => this.refuseDelete(m.id),
    };
  }

  private launched(r: CloneRecord): LibvirtLaunchedInstance {
    return {
      uuid: r.uuid,
      name: r.name,
      status: 'ACTIVE',
      launchedFrom: r.launchedFrom,
      macs: r.macs,
      hostname: r.hostname,
      identity: r.identity,
      launchMs: r.launchMs,
      restoreMs: r.restoreMs,
      delete: () => this.deleteInstance({ uuid: r.uuid, name: r.name }),
    };
  }

  private async sweep(): Promise<void> {
    try {
      const report = await gc(this.ctx);
      if (report.removed.length || report.resumed.length) this.ctx.logger.info(report, 'vms gc cleaned up after an interrupted run');
    } catch (e) {
      this.ctx.logger.warn({ err: e }, 'vms gc pass failed; continuing');
    }
  }
}
