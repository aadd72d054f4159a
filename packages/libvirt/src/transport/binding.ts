import { ConnectListAllDomainsFlags, DomainGetXMLDescFlags, Hypervisor, type Domain } from '@unraid/libvirt';
import { NotFoundError } from '@virtplug/core';
import { mapLibvirtError, type ErrorContext } from './errors.js';
import type { DomainInfo, DomainRef, LibvirtTransport, NodeInfo } from './port.js';
import { withTimeout } from './timeout.js';

/** The calls @unraid/libvirt has (its 28 native methods); the composite sends everything else to virsh. */
export type BindingCalls = Pick<
  LibvirtTransport,
  | 'open'
  | 'close'
  | 'hostname'
  | 'nodeInfo'
  | 'listDomains'
  | 'listManagedSave'
  | 'lookup'
  | 'find'
  | 'lookupByName'
  | 'getInfo'
  | 'getXml'
  | 'define'
  | 'undefine'
  | 'start'
  | 'destroy'
  | 'shutdown'
  | 'suspend'
  | 'resume'
  | 'save'
  | 'restore'
>;

/**
 * In-process libvirt through @unraid/libvirt (N-API). One connection for the driver's lifetime: libvirt
 * connections are thread-safe, and libvirt's test driver only keeps state on the connection it was
 * opened on. Domain handles are cached by UUID because each lookup is a daemon round trip.
 */
export class BindingTransport implements BindingCalls {
  private hv: Hypervisor | undefined;
  private readonly handles = new Map<string, Domain>();

  constructor(
    readonly uri: string,
    private readonly timeoutMs: number,
    private readonly factory: (uri: string) => Hypervisor = (u) => new Hypervisor({ uri: u }),
  ) {}

  async open(): Promise<void> {
    if (this.hv) return;
    const hv = this.factory(this.uri);
    await this.call('connectOpen', () => hv.connectOpen());
    this.hv = hv;
  }

  async close(): Promise<void> {
    const hv = this.hv;
    this.hv = undefined;
    this.handles.clear();
    if (hv) await hv.connectClose().catch(() => undefined);
  }

  async hostname(): Promise<string> {
    return this.call('connectGetHostname', () => this.conn().connectGetHostname());
  }

  async nodeInfo(): Promise<NodeInfo> {
    const n = await this.call('nodeGetInfo', () => this.conn().nodeGetInfo());
    return { model: n.model, memoryKb: n.memory, cpus: n.cpus, mhz: n.mhz, sockets: n.sockets, cores: n.cores, threads: n.threads };
  }

  async listDomains(): Promise<DomainRef[]> {
    const doms = await this.call('connectListAllDomains', () => this.conn().connectListAllDomains());
    return Promise.all(doms.map((d) => this.refOf(d)));
  }

  async listManagedSave(): Promise<string[]> {
    const flags = ConnectListAllDomainsFlags.ACTIVE | ConnectListAllDomainsFlags.INACTIVE | ConnectListAllDomainsFlags.MANAGEDSAVE;
    const doms = await this.call('connectListAllDomains', () => this.conn().connectListAllDomains(flags));
    return Promise.all(doms.map((d) => this.call('domainGetUUIDString', () => d.getUUIDString())));
  }

  /**
   * Asks libvirt every time: a cached handle answers getName() from the client side, so it would
   * report a domain that was undefined meanwhile (migrated away, removed by another tool).
   */
  async lookup(uuid: string): Promise<DomainRef> {
    this.handles.delete(uuid);
    const d = await this.handle(uuid);
    return { uuid, name: await this.onDomain(uuid, 'domainGetName', () => d.getName()) };
  }

  async find(uuid: string): Promise<DomainRef | null> {
    try {
      return await this.lookup(uuid);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  async lookupByName(name: string): Promise<DomainRef | null> {
    try {
      const d = await this.call('domainLookupByName', () => this.conn().domainLookupByName(name), { kind: 'Domain', id: name });
      return await this.refOf(d);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  async getInfo(uuid: string): Promise<DomainInfo> {
    const i = await this.withHandle(uuid, 'domainGetInfo', (d) => d.getInfo());
    return { state: i.state, maxMemKb: i.maxMem, memKb: i.memory, vcpus: i.nrVirtCpu, cpuTimeNs: Number(i.cpuTime) };
  }

  async getXml(uuid: string, options: { secure?: boolean; inactive?: boolean } = {}): Promise<string> {
    const flags = (options.secure ? DomainGetXMLDescFlags.SECURE : 0) | (options.inactive ? DomainGetXMLDescFlags.INACTIVE : 0);
    return this.withHandle(uuid, 'domainGetXMLDesc', (d) => d.getXMLDesc(flags));
  }

  async define(xml: string): Promise<DomainRef> {
    const d = await this.call('domainDefineXML', () => this.conn().domainDefineXML(xml));
    const ref = await this.refOf(d);
    this.handles.set(ref.uuid, d);
    return ref;
  }

  async undefine(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainUndefine', (d) => d.undefine());
    this.handles.delete(uuid);
  }

  async start(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainCreate', (d) => d.create());
  }
  async destroy(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainDestroy', (d) => d.destroy());
  }
  async shutdown(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainShutdown', (d) => d.shutdown());
  }
  async suspend(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainSuspend', (d) => d.suspend());
  }
  async resume(uuid: string): Promise<void> {
    await this.withHandle(uuid, 'domainResume', (d) => d.resume());
  }
  async save(uuid: string, file: string): Promise<void> {
    await this.withHandle(uuid, 'domainSave', (d) => d.save(file));
  }
  async restore(file: string): Promise<void> {
    await this.call('domainRestore', () => this.conn().domainRestore(file), { kind: 'Save image', id: file });
  }

  private conn(): Hypervisor {
    if (!this.hv) throw mapLibvirtError('not connected to the hypervisor (call open() first)', { op: 'connection', uri: this.uri });
    return this.hv;
  }

  private async refOf(d: Domain): Promise<DomainRef> {
    const [uuid, name] = await Promise.all([this.call('domainGetUUIDString', () => d.getUUIDString()), this.call('domainGetName', () => d.getName())]);
    return { uuid, name };
  }

  private async handle(uuid: string): Promise<Domain> {
    const cached = this.handles.get(uuid);
    if (cached) return cached;
    const d = await this.call('domainLookupByUUIDString', () => this.conn().domainLookupByUUIDString(uuid), { kind: 'Instance', id: uuid });
    this.handles.set(uuid, d);
    return d;
  }

  /** A cached handle may outlive its domain (undefined by someone else): look it up once more before giving up. */
  private async withHandle<T>(uuid: string, op: string, fn: (d: Domain) => Promise<T>): Promise<T> {
    const wasCached = this.handles.has(uuid);
    try {
      return await this.onDomain(uuid, op, async () => fn(await this.handle(uuid)));
    } catch (e) {
      if (!(e instanceof NotFoundError) || !wasCached) throw e;
      this.handles.delete(uuid);
      return this.onDomain(uuid, op, async () => fn(await this.handle(uuid)));
    }
  }

  private onDomain<T>(uuid: string, op: string, fn: () => Promise<T>): Promise<T> {
    return this.call(op, fn, { kind: 'Instance', id: uuid });
  }

  private async call<T>(op: string, fn: () => Promise<T>, subject?: ErrorContext['subject']): Promise<T> {
    const context: ErrorContext = { op, uri: this.uri, timeoutMs: this.timeoutMs, ...(subject ? { subject } : {}) };
    try {
      return await withTimeout(fn(), this.timeoutMs, `libvirt ${op} on ${this.uri}`);
    } catch (e) {
      throw mapLibvirtError(e, context);
    }
  }
}
