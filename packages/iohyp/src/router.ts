import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  OperationFailedError,
  UnsupportedOperationError,
  flavorFlag,
  redactConnectionInfo,
  type ComputeDriver,
  type DestroyOptions,
  type Flavor,
  type ImageMeta,
  type Instance,
  type InstanceInfo,
  type InstanceRef,
  type NetworkInfo,
  type SpawnOptions,
  type VolumeConnectionInfo,
} from '@virtplug/core';
import type { Logger } from 'pino';
import { selectVif } from './addressing.js';
import type { AgentStatus } from './model.js';
import type { IoHypAgentApi } from './agent/client.js';
import { routerCapabilities } from './capabilities.js';
import type { RouterSettings } from './config.js';
import { DelegatingDriver } from './delegating-driver.js';
import type { FaultHook, RouteContext } from './routes/context.js';
import { collectGarbage, type GcReport } from './routes/gc.js';
import { OptInStore, type OptInRecord } from './routes/opt-ins.js';
import type { RouteRecord } from './routes/record.js';
import { runAttach, stepError, teardown } from './routes/saga.js';
import { RouteStore } from './routes/store.js';
import { KeyedMutex } from '@virtplug/core';

export const IO_ENABLED = 'io:enabled';
export const IO_NETWORK = 'io:network';

export interface IoHypRouterOptions {
  settings: RouterSettings;
  /** name -> client; built from settings.agents by wrapWithIoHyp. */
  agents: ReadonlyMap<string, IoHypAgentApi>;
  logger: Logger;
  faults?: FaultHook;
}

/**
 * Wraps any ComputeDriver and routes the volumes of instances whose flavor says `io:enabled=1` through
 * an IOhyp (seed 002): backend -> IOhyp -> NBD export on the instance's own segment -> network disk.
 * Everything else, and every other operation, goes to the wrapped driver unchanged.
 */
export class IoHypRouter extends DelegatingDriver {
  readonly name = 'iohyp';
  readonly capabilities: ComputeDriver['capabilities'];
  readonly routes: RouteStore;
  readonly optIns: OptInStore;
  private readonly ctx: RouteContext;
  private readonly lock = new KeyedMutex();

  constructor(inner: ComputeDriver, private readonly options: IoHypRouterOptions) {
    super(inner);
    this.capabilities = routerCapabilities(inner.capabilities);
    this.routes = new RouteStore(options.settings.stateDir);
    this.optIns = new OptInStore(options.settings.stateDir);
    this.ctx = {
      inner,
      settings: options.settings,
      routes: this.routes,
      optIns: this.optIns,
      logger: options.logger,
      agent: (name) => {
        const a = options.agents.get(name);
        if (!a) throw new NotFoundError('IOhyp agent', name, `configured agents: ${[...options.agents.keys()].join(', ') || 'none'}`);
        return a;
      },
      ...(options.faults ? { faults: options.faults } : {}),
    };
  }

  get wrappedName(): string {
    return this.inner.name;
  }

  isRouted(instance: InstanceRef): boolean {
    return this.optIns.get(instance.uuid) !== undefined;
  }

  /** Records (or clears) the opt-in of an instance created elsewhere, e.g. before the router was used. */
  registerInstance(instance: Instance, networkInfo?: NetworkInfo): void {
    if (!flavorFlag(instance.flavor, IO_ENABLED)) {
      this.optIns.delete(instance.uuid);
      return;
    }
    const previous = this.optIns.get(instance.uuid);
    const record: OptInRecord = {
      uuid: instance.uuid,
      name: instance.name,
      networkInfo: networkInfo ?? instance.networkInfo ?? previous?.networkInfo ?? [],
      recordedAt: new Date().toISOString(),
      ...(instance.metadata?.[IO_NETWORK] ? { preferredNetwork: instance.metadata[IO_NETWORK] } : {}),
      ...(previous?.iohypHost ? { iohypHost: previous.iohypHost } : {}),
    };
    this.optIns.put(record);
  }

  override async spawn(instance: Instance, image: ImageMeta, options?: SpawnOptions): Promise<InstanceInfo> {
    this.registerInstance(instance, options?.networkInfo);
    try {
      return await this.inner.spawn(instance, image, options);
    } catch (e) {
      this.optIns.delete(instance.uuid);
      throw e;
    }
  }

  override async plugVifs(instance: InstanceRef, networkInfo: NetworkInfo): Promise<void> {
    await this.inner.plugVifs(instance, networkInfo);
    this.optIns.patch(instance.uuid, (o) => ({ ...o, networkInfo: mergeVifs(o.networkInfo, networkInfo) }));
  }

  override async resize(instance: InstanceRef, flavor: Flavor): Promise<void> {
    const routed = this.isRouted(instance);
    if (routed && !flavorFlag(flavor, IO_ENABLED) && this.routes.forInstance(instance.uuid).length > 0) {
      throw new ConflictError(`Instance ${instance.name} has volumes routed through an IOhyp; detach them before resizing to a flavor without ${IO_ENABLED}=1.`);
    }
    await this.inner.resize(instance, flavor);
    if (routed && !flavorFlag(flavor, IO_ENABLED)) this.optIns.delete(instance.uuid);
  }

  override async destroy(instance: InstanceRef, options?: DestroyOptions): Promise<void> {
    await this.inner.destroy(instance, options);
    if (!this.isRouted(instance)) return;
    // Synchronously, unlike nova-iorcl's fire-and-forget cast: the disks went with the domain; the
    // exports, ports and backend sessions go now.
    const failures: string[] = [];
    await this.lock.run(instance.uuid, async () => {
      for (const r of this.routes.forInstance(instance.uuid)) {
        const res = await teardown(this.ctx, { ...r, state: 'detaching' }, { skipDisk: true });
        failures.push(...res.failed.map((f) => `${r.volumeId}: ${f.step}: ${f.message}`));
      }
    });
    if (failures.length > 0) {
      throw new OperationFailedError(`Instance ${instance.name} is destroyed, but some of its IOhyp routes could not be removed (${failures.join('; ')}); run 'virtplug iohyp gc'.`, {
        step: 'destroy-routes',
        instance: instance.uuid,
      });
    }
    this.optIns.delete(instance.uuid);
  }

  override async attachVolume(instance: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    if (!this.isRouted(instance)) return this.inner.attachVolume(instance, ci, mountpoint);
    await this.attachRouted(instance, ci, mountpoint);
  }

  /** The routed attach, returning its record; `networkId` overrides the NIC choice. */
  attachRouted(instance: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string, options: { networkId?: string } = {}): Promise<RouteRecord> {
    return this.lock.run(instance.uuid, async () => {
      const optIn = this.optIns.get(instance.uuid);
      if (!optIn) throw new NotFoundError('IOhyp opt-in of instance', instance.uuid, `its flavor needs ${IO_ENABLED}=1`);
      if (!/^\/dev\/[a-z]{2,8}$/.test(mountpoint)) throw new InvalidArgumentError('mountpoint', mountpoint, 'a device path like /dev/vdb');
      const clash = this.routes.forInstance(instance.uuid).find((r) => r.device === mountpoint || r.volumeId === ci.volumeId);
      if (clash) {
        throw new ConflictError(`Instance ${instance.name} already has volume ${clash.volumeId} routed at ${clash.device} (state ${clash.state}).`, {
          attachmentId: clash.attachmentId,
        });
      }
      const { vif, segment, guestIp } = selectVif(optIn.networkInfo, instance.name, options.networkId ?? optIn.preferredNetwork);
      const attachmentId = randomUUID();
      const now = new Date().toISOString();
      const record: RouteRecord = {
        attachmentId,
        volumeId: ci.volumeId,
        instance: { uuid: instance.uuid, name: instance.name },
        iohypHost: '',
        agentUrl: '',
        segment,
        networkId: vif.network.id,
        guest: { mac: vif.address, ip: guestIp },
        backend: { id: attachmentId, type: ci.driverVolumeType === 'file' ? 'file' : 'iscsi', url: '', chap: false, sizeBytes: null },
        segmentPort: null,
        export: null,
        device: mountpoint,
        state: 'attaching',
        done: [],
        createdAt: now,
        updatedAt: now,
      };
      this.options.logger.info({ attachmentId, volume: redactConnectionInfo(ci).volumeId, instance: instance.uuid, segment }, 'routing volume');
      return runAttach(this.ctx, record, { connectionInfo: ci, cidr: vif.network.cidr });
    });
  }

  override async detachVolume(instance: InstanceRef, ci: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    const routes = this.routes.forInstance(instance.uuid).filter((r) => r.volumeId === ci.volumeId);
    const route = routes.find((r) => r.device === mountpoint);
    if (route) return this.detachRoute(route.attachmentId);
    if (routes.length > 0) {
      throw new NotFoundError('IOhyp route', `${instance.name}:${mountpoint}`, `volume ${ci.volumeId} is routed at ${routes.map((r) => r.device).join(', ')}`);
    }
    // Not routed (plain instance, or a volume attached before the opt-in): the wrapped driver's path.
    return this.inner.detachVolume(instance, ci, mountpoint);
  }

  /** Detaches by record: undoes exactly what the record says was built. */
  detachRoute(attachmentId: string): Promise<void> {
    const first = this.routes.get(attachmentId);
    if (!first) return Promise.reject(new NotFoundError('IOhyp route', attachmentId, 'list them with virtplug iohyp routes'));
    return this.lock.run(first.instance.uuid, async () => {
      const r = this.routes.get(attachmentId);
      if (!r) return;
      r.state = 'detaching';
      this.routes.save(r);
      const res = await teardown(this.ctx, r);
      if (res.failed.length > 0) {
        const f = res.failed[0]!;
        throw stepError('detach', f.step, r, Object.assign(new Error(f.message), { code: f.code }), res);
      }
    });
  }

  override async swapVolume(instance: InstanceRef, old: VolumeConnectionInfo, next: VolumeConnectionInfo, mountpoint: string): Promise<void> {
    if (!this.isRouted(instance)) return this.inner.swapVolume(instance, old, next, mountpoint);
    throw new UnsupportedOperationError(this.name, 'swapVolume', 'not for io:enabled instances (as in nova-iorcl); detach and attach instead');
  }

  listRoutes(): RouteRecord[] {
    return this.routes.list();
  }

  agentNames(): string[] {
    return [...this.options.agents.keys()];
  }

  agentStatus(name: string): Promise<AgentStatus> {
    return this.ctx.agent(name).status();
  }

  /** Finishes interrupted routes and removes agent-side leftovers no record accounts for. */
  gc(options: { agentOrphans?: boolean } = {}): Promise<GcReport> {
    return collectGarbage(this.ctx, this.options.agents, options);
  }
}

function mergeVifs(current: NetworkInfo, added: NetworkInfo): NetworkInfo {
  const ids = new Set(added.map((v) => v.id));
  return [...current.filter((v) => !ids.has(v.id)), ...added];
}
