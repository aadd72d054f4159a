import { InvalidStateError, UnsupportedOperationError } from '@virtplug/core';
import type { BindingCalls } from './binding.js';
import type { BlockCopyOptions, ChangeScope, LibvirtTransport, MigrateOptions, SecretSpec, TransportMethod, UndefineOptions } from './port.js';
import { ROUTES } from './routes.js';

/** Calls that need no domain state, so virsh may serve them even for libvirt's per-connection test driver. */
const STATELESS: ReadonlySet<TransportMethod> = new Set(['versions']);

/**
 * Routes each call to the binding or to virsh per ROUTES. With no binding (addon missing, or
 * `transport = virsh`), everything goes to virsh. With a per-connection-state URI (test:///), virsh
 * would see a different, fresh hypervisor, so virsh-only calls are refused as unsupported.
 */
export class CompositeTransport implements LibvirtTransport {
  constructor(
    private readonly binding: BindingCalls | null,
    private readonly virsh: LibvirtTransport,
    private readonly perConnectionState: boolean,
  ) {}

  get uri(): string {
    return this.virsh.uri;
  }

  /** Which adapter a call goes to here (for logs, docs and tests). */
  routeOf(method: TransportMethod): 'binding' | 'virsh' | 'unsupported' {
    if (ROUTES[method] === 'binding' && this.binding) return 'binding';
    if (this.perConnectionState && !STATELESS.has(method)) return this.binding ? 'unsupported' : 'virsh';
    return 'virsh';
  }

  private target(method: TransportMethod): LibvirtTransport | BindingCalls {
    const route = this.routeOf(method);
    if (route === 'unsupported') throw this.refusal(method);
    return route === 'binding' ? this.binding! : this.virsh;
  }

  private refusal(method: string): UnsupportedOperationError {
    return new UnsupportedOperationError(
      'libvirt',
      method,
      `${this.uri} is libvirt's test driver, which keeps state per connection; virsh runs in another process and would not see these domains`,
    );
  }

  private call<M extends TransportMethod>(method: M, ...args: Parameters<LibvirtTransport[M]>): ReturnType<LibvirtTransport[M]> {
    // Refusals become rejected promises, like every other failure of an async call.
    try {
      const t = this.target(method) as unknown as Record<M, (...a: unknown[]) => ReturnType<LibvirtTransport[M]>>;
      return t[method](...args);
    } catch (e) {
      return Promise.reject(e) as ReturnType<LibvirtTransport[M]>;
    }
  }

  open() { return this.call('open'); }
  close() { return this.call('close'); }
  hostname() { return this.call('hostname'); }
  nodeInfo() { return this.call('nodeInfo'); }
  versions() { return this.call('versions'); }
  listDomains() { return this.call('listDomains'); }
  listManagedSave() { return this.call('listManagedSave'); }
  lookup(uuid: string) { return this.call('lookup', uuid); }
  find(uuid: string) { return this.call('find', uuid); }
  lookupByName(name: string) { return this.call('lookupByName', name); }
  getInfo(uuid: string) { return this.call('getInfo', uuid); }
  getXml(uuid: string, o?: { secure?: boolean; inactive?: boolean }) { return this.call('getXml', uuid, o); }
  define(xml: string) { return this.call('define', xml); }

  /** The binding's undefine has no flags: a managed-save image or snapshots make it refuse; virsh can pass them. */
  async undefine(uuid: string, o: UndefineOptions = {}): Promise<void> {
    try {
      await this.call('undefine', uuid, o);
    } catch (e) {
      if (!(e instanceof InvalidStateError) || !o.removeAll || this.routeOf('undefine') !== 'binding' || this.perConnectionState) throw e;
      await this.virsh.undefine(uuid, o);
    }
  }

  start(uuid: string) { return this.call('start', uuid); }
  destroy(uuid: string) { return this.call('destroy', uuid); }
  shutdown(uuid: string) { return this.call('shutdown', uuid); }
  suspend(uuid: string) { return this.call('suspend', uuid); }
  resume(uuid: string) { return this.call('resume', uuid); }
  save(uuid: string, file: string) { return this.call('save', uuid, file); }

  /** virDomainRestore has no XML override or paused flag in the binding. */
  async restore(file: string, o: { xml?: string; paused?: boolean } = {}): Promise<void> {
    if (!o.xml && !o.paused) return this.call('restore', file);
    if (this.perConnectionState && this.binding) throw this.refusal('restore');
    return this.virsh.restore(file, o);
  }

  reboot(uuid: string) { return this.call('reboot', uuid); }
  reset(uuid: string) { return this.call('reset', uuid); }
  managedSave(uuid: string, o?: { running?: boolean }) { return this.call('managedSave', uuid, o); }
  managedSaveRemove(uuid: string) { return this.call('managedSaveRemove', uuid); }
  setMemory(uuid: string, kib: number, s: ChangeScope) { return this.call('setMemory', uuid, kib, s); }
  setMaxMemory(uuid: string, kib: number, s: ChangeScope) { return this.call('setMaxMemory', uuid, kib, s); }
  setVcpus(uuid: string, n: number, s: ChangeScope & { maximum?: boolean }) { return this.call('setVcpus', uuid, n, s); }
  attachDevice(uuid: string, xml: string, s: ChangeScope) { return this.call('attachDevice', uuid, xml, s); }
  detachDevice(uuid: string, xml: string, s: ChangeScope) { return this.call('detachDevice', uuid, xml, s); }
  setMetadata(uuid: string, ns: { uri: string; key: string }, xml: string | null, s: ChangeScope) { return this.call('setMetadata', uuid, ns, xml, s); }
  domifSetLink(uuid: string, iface: string, state: 'up' | 'down') { return this.call('domifSetLink', uuid, iface, state); }
  memtune(uuid: string, p: Record<string, number>, s: ChangeScope) { return this.call('memtune', uuid, p, s); }
  snapshotCreateAs(uuid: string, name: string, o?: { diskOnly?: boolean; atomic?: boolean; noMetadata?: boolean; diskSpecs?: string[] }) {
    return this.call('snapshotCreateAs', uuid, name, o);
  }
  snapshotList(uuid: string) { return this.call('snapshotList', uuid); }
  snapshotRevert(uuid: string, name: string) { return this.call('snapshotRevert', uuid, name); }
  snapshotDelete(uuid: string, name: string, o?: { metadataOnly?: boolean }) { return this.call('snapshotDelete', uuid, name, o); }
  blockCommit(uuid: string, disk: string, o?: { active?: boolean; pivot?: boolean; timeoutMs?: number }) { return this.call('blockCommit', uuid, disk, o); }
  blockCopy(uuid: string, disk: string, destXml: string, o?: BlockCopyOptions) { return this.call('blockCopy', uuid, disk, destXml, o); }
  blockJobAbort(uuid: string, disk: string) { return this.call('blockJobAbort', uuid, disk); }
  migrate(uuid: string, dest: string, o?: MigrateOptions) { return this.call('migrate', uuid, dest, o); }
  domstats(uuid: string) { return this.call('domstats', uuid); }
  qemuMonitorCommand(uuid: string, c: Record<string, unknown>) { return this.call('qemuMonitorCommand', uuid, c); }
  secretDefine(spec: SecretSpec) { return this.call('secretDefine', spec); }
  secretSetValueFromFile(id: string, file: string) { return this.call('secretSetValueFromFile', id, file); }
  secretUndefine(id: string) { return this.call('secretUndefine', id); }
  secretList() { return this.call('secretList'); }
}
