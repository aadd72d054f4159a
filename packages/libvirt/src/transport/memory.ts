import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConflictError, InvalidStateError, NotFoundError, OperationFailedError, UnsupportedOperationError } from '@virtplug/core';
import { applyMetadata, findMetadataElement } from '../xml/metadata.js';
import { readDomain } from '../xml/read.js';
import { child, cloneXml, ensureChild, isElement, parseXml, removeChildren, serializeXml, setText, type XmlElement } from '../xml/tree.js';
import { DomainState, type BlockCopyOptions, type ChangeScope, type DomainInfo, type DomainRef, type LibvirtTransport, type NodeInfo, type SecretSpec, type Versions } from './port.js';

interface MemDomain {
  config: XmlElement;
  live?: XmlElement;
  state: DomainState;
  managedSave: boolean;
  id?: number;
}

/**
 * An in-memory libvirt for unit tests of driver logic: domains with state rules close to libvirt's
 * (define/start/destroy/suspend/managed save, live vs persistent XML for device changes), and secrets.
 * `calls` records each call; `shutdownBehaviour` lets tests make a guest ignore the power button.
 */
export class InMemoryTransport implements LibvirtTransport {
  readonly uri = 'memory:///';
  readonly calls: string[] = [];
  shutdownBehaviour: 'off' | 'ignore' = 'off';
  /** Makes every blockCopy fail with this message (tests of the swap rollback). */
  blockCopyFailure: string | undefined;
  readonly domains = new Map<string, MemDomain>();
  private readonly secrets = new Map<string, { usage: string; value?: string }>();
  private nextId = 1;
  private open_ = false;

  private rec(s: string) {
    this.calls.push(s);
  }
  private get(uuid: string): MemDomain {
    if (!this.open_) throw new InvalidStateError('not connected to the hypervisor');
    const d = this.domains.get(uuid.toLowerCase());
    if (!d) throw new NotFoundError('Instance', uuid, 'Domain not found');
    return d;
  }
  private active(d: MemDomain) {
    return d.state !== DomainState.SHUTOFF;
  }
  private requireActive(d: MemDomain, op: string) {
    if (!this.active(d)) throw new InvalidStateError(`Cannot ${op}: Requested operation is not valid: domain is not running`);
  }

  async open() { this.rec('open'); this.open_ = true; }
  async close() { this.rec('close'); this.open_ = false; }
  async hostname() { return 'memory-host'; }
  async nodeInfo(): Promise<NodeInfo> { return { model: 'x86_64', memoryKb: 16 * 1024 * 1024, cpus: 8, mhz: 2000, sockets: 1, cores: 8, threads: 1 }; }
  async versions(): Promise<Versions> { return { libvirt: '9.0.0', hypervisorType: 'QEMU', hypervisorVersion: '7.2.0' }; }

  async listDomains(): Promise<DomainRef[]> {
    return [...this.domains.entries()].map(([uuid, d]) => ({ uuid, name: readDomain(d.config).spec.name }));
  }
  async listManagedSave() { return [...this.domains.entries()].filter(([, d]) => d.managedSave).map(([u]) => u); }
  async lookup(uuid: string) { return { uuid: uuid.toLowerCase(), name: readDomain(this.get(uuid).config).spec.name }; }
  async find(uuid: string) { return this.domains.has(uuid.toLowerCase()) ? this.lookup(uuid) : null; }
  async lookupByName(name: string) { return (await this.listDomains()).find((d) => d.name === name) ?? null; }
  async getInfo(uuid: string): Promise<DomainInfo> {
    const d = this.get(uuid);
    const spec = readDomain(d.live ?? d.config).spec;
    return { state: d.state, maxMemKb: spec.memoryKb, memKb: spec.currentMemoryKb ?? spec.memoryKb, vcpus: spec.vcpus, cpuTimeNs: this.active(d) ? 1_000_000 : 0 };
  }
  async getXml(uuid: string, o: { secure?: boolean; inactive?: boolean } = {}) {
    const d = this.get(uuid);
    const tree = cloneXml(o.inactive || !d.live ? d.config : d.live);
    if (!o.secure) for (const g of devicesOf(tree).filter((e) => e.name === 'graphics')) delete g.attrs.passwd;
    return serializeXml(tree);
  }

  async define(xml: string): Promise<DomainRef> {
    this.rec('define');
    const tree = parseXml(xml);
    const uuidEl = ensureChild(tree, 'uuid', 'name');
    const uuid = (child(tree, 'uuid')?.children.length ? readDomain(tree).spec.uuid : randomUUID()).toLowerCase();
    setText(uuidEl, uuid);
    const name = readDomain(tree).spec.name;
    const clash = (await this.listDomains()).find((d) => d.name === name && d.uuid !== uuid);
    if (clash) throw new ConflictError(`operation failed: domain '${name}' already exists with uuid ${clash.uuid}`);
    const existing = this.domains.get(uuid);
    if (existing) existing.config = tree;
    else this.domains.set(uuid, { config: tree, state: DomainState.SHUTOFF, managedSave: false });
    return { uuid, name };
  }
  async undefine(uuid: string, o: { removeAll?: boolean } = {}) {
    this.rec(`undefine ${uuid}`);
    const d = this.get(uuid);
    if (d.managedSave && !o.removeAll) throw new InvalidStateError('Requested operation is not valid: Refusing to undefine while domain managed save image exists');
    this.domains.delete(uuid.toLowerCase());
  }
  async start(uuid: string) {
    this.rec(`start ${uuid}`);
    const d = this.get(uuid);
    if (this.active(d)) throw new InvalidStateError('Requested operation is not valid: domain is already running');
    d.live = cloneXml(d.config);
    d.id = this.nextId++;
    d.live.attrs = { ...d.live.attrs, id: String(d.id) };
    for (const g of devicesOf(d.live).filter((e) => e.name === 'graphics')) g.attrs.port = String(5900 + d.id);
    d.state = DomainState.RUNNING;
    d.managedSave = false;
  }
  async destroy(uuid: string) {
    this.rec(`destroy ${uuid}`);
    const d = this.get(uuid);
    this.requireActive(d, 'destroy');
    d.state = DomainState.SHUTOFF;
    d.live = undefined;
  }
  async shutdown(uuid: string) {
    this.rec(`shutdown ${uuid}`);
    const d = this.get(uuid);
    this.requireActive(d, 'shutdown');
    if (this.shutdownBehaviour === 'off') {
      d.state = DomainState.SHUTOFF;
      d.live = undefined;
    }
  }
  async suspend(uuid: string) {
    this.rec(`suspend ${uuid}`);
    const d = this.get(uuid);
    this.requireActive(d, 'suspend');
    d.state = DomainState.PAUSED;
  }
  async resume(uuid: string) {
    this.rec(`resume ${uuid}`);
    const d = this.get(uuid);
    if (d.state !== DomainState.PAUSED) throw new InvalidStateError(`Requested operation is not valid: domain is not paused`);
    d.state = DomainState.RUNNING;
  }
  async save(uuid: string) { return this.managedSave(uuid); }
  async restore(): Promise<void> { throw new UnsupportedOperationError('in-memory', 'restore'); }
  async reboot(uuid: string) { this.requireActive(this.get(uuid), 'reboot'); }
  async reset(uuid: string) { this.requireActive(this.get(uuid), 'reset'); }
  async managedSave(uuid: string) {
    this.rec(`managedsave ${uuid}`);
    const d = this.get(uuid);
    this.requireActive(d, 'managedsave');
    d.state = DomainState.SHUTOFF;
    d.live = undefined;
    d.managedSave = true;
  }
  async managedSaveRemove(uuid: string) { this.get(uuid).managedSave = false; }

  async setMemory(uuid: string, kib: number, s: ChangeScope) { this.edit(uuid, s, (t) => setText(ensureChild(t, 'currentMemory'), String(kib))); }
  async setMaxMemory(uuid: string, kib: number, s: ChangeScope) { this.edit(uuid, s, (t) => setText(ensureChild(t, 'memory'), String(kib))); }
  async setVcpus(uuid: string, n: number, s: ChangeScope) { this.edit(uuid, s, (t) => setText(ensureChild(t, 'vcpu'), String(n))); }
  async attachDevice(uuid: string, xml: string, s: ChangeScope) {
    this.rec(`attach ${uuid}`);
    const dev = parseXml(xml);
    this.edit(uuid, s, (t) => ensureChild(t, 'devices').children.push(cloneXml(dev)));
  }
  async detachDevice(uuid: string, xml: string, s: ChangeScope) {
    this.rec(`detach ${uuid}`);
    const target = child(parseXml(xml), 'target')?.attrs.dev;
    this.edit(uuid, s, (t) => {
      if (!removeChildren(ensureChild(t, 'devices'), (e) => e.name === 'disk' && child(e, 'target')?.attrs.dev === target)) {
        throw new NotFoundError('Device', target ?? '?', `no target device ${target}`);
      }
    });
  }
  async setMetadata(uuid: string, _ns: { uri: string; key: string }, xml: string | null, s: ChangeScope) {
    this.edit(uuid, s, (t) => {
      const found = findMetadataElement(t);
      if (found) removeChildren(child(t, 'metadata')!, (e) => e === found.element);
      if (xml !== null) applyMetadata(t, {});
    });
  }
  async domifSetLink() {}
  async memtune() {}
  private unsupported(op: string): never {
    throw new UnsupportedOperationError('in-memory', op, 'not modelled by InMemoryTransport');
  }
  async snapshotCreateAs(): Promise<void> { this.unsupported('snapshotCreateAs'); }
  async snapshotList(): Promise<string[]> { return []; }
  async snapshotRevert(): Promise<void> { this.unsupported('snapshotRevert'); }
  async snapshotDelete(): Promise<void> { this.unsupported('snapshotDelete'); }
  async blockCommit(): Promise<void> { this.unsupported('blockCommit'); }
  /** Models libvirt 9: a pivot points the disk's live and persistent source at the copy; serial and address stay. */
  async blockCopy(uuid: string, disk: string, destXml: string, o: BlockCopyOptions = {}) {
    this.rec(`blockcopy ${uuid} ${disk}`);
    const d = this.get(uuid);
    this.requireActive(d, 'blockcopy');
    if (!o.transientJob) throw new InvalidStateError('Requested operation is not valid: domain is not transient');
    if (this.blockCopyFailure) throw new OperationFailedError(`libvirt virsh blockcopy failed on ${this.uri}: ${this.blockCopyFailure}`);
    const dest = parseXml(destXml);
    if (!o.pivot) return;
    for (const tree of [d.live!, d.config]) {
      const el = devicesOf(tree).find((e) => e.name === 'disk' && child(e, 'target')?.attrs.dev === disk);
      if (!el && tree === d.live) throw new NotFoundError('Device', disk, `no target device ${disk}`);
      if (!el) continue;
      el.attrs = { ...el.attrs, type: dest.attrs.type ?? 'file' };
      for (const name of ['driver', 'source']) {
        const i = el.children.findIndex((c) => isElement(c) && c.name === name);
        const repl = child(dest, name);
        if (i >= 0 && repl) el.children[i] = cloneXml(repl);
      }
    }
  }
  async blockJobAbort(uuid: string, disk: string) { this.rec(`blockjob-abort ${uuid} ${disk}`); }
  async migrate(): Promise<void> { this.unsupported('migrate'); }
  async domstats(uuid: string) { return { 'state.state': String(this.get(uuid).state) }; }
  async qemuMonitorCommand(): Promise<unknown> { return this.unsupported('qemuMonitorCommand'); }

  async secretDefine(spec: SecretSpec) {
    const id = randomUUID();
    this.secrets.set(id, { usage: spec.usage });
    return id;
  }
  async secretSetValueFromFile(id: string, file: string) {
    const s = this.secrets.get(id);
    if (!s) throw new NotFoundError('libvirt secret', id);
    s.value = await readFile(file, 'utf8');
  }
  async secretUndefine(id: string) { this.secrets.delete(id); }
  async secretList() { return [...this.secrets.entries()].map(([uuid, s]) => ({ uuid, usage: s.usage })); }
  secretValue(usage: string): string | undefined {
    return [...this.secrets.values()].find((s) => s.usage === usage)?.value;
  }

  /** Applies a change to the live and/or persistent XML, as virsh's --live/--config do. */
  private edit(uuid: string, s: ChangeScope, fn: (t: XmlElement) => void) {
    const d = this.get(uuid);
    if (s.live && !d.live) throw new InvalidStateError('Requested operation is not valid: domain is not running');
    if (s.live) fn(d.live!);
    if (s.config || (!s.live && !s.config)) fn(d.config);
  }
}

function devicesOf(tree: XmlElement): XmlElement[] {
  return (child(tree, 'devices')?.children ?? []).filter(isElement);
}
