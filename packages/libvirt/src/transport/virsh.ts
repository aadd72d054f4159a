import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HypervisorUnavailableError, NotFoundError, TimeoutError, type ProcessRunner } from '@virtplug/core';
import { mapLibvirtError } from './errors.js';
import type { BlockCopyOptions, ChangeScope, DomainInfo, DomainRef, LibvirtTransport, MigrateOptions, NodeInfo, SecretSpec, UndefineOptions, Versions } from './port.js';
import { parseDominfo, parseDomstats, parseNodeinfo, parseSecretDefine, parseSecretList, parseUuidList, parseUuidNameList, parseVersion } from './virsh-parse.js';
import { escapeXml } from '../xml/tree.js';

const scopeFlags = (s: ChangeScope) => [...(s.live ? ['--live'] : []), ...(s.config ? ['--config'] : []), ...(!s.live && !s.config ? ['--current'] : [])];

/**
 * libvirt through `virsh -c URI …` (one process per call, argv arrays, a timeout each): everything the
 * binding lacks. It also implements the binding's calls, so the driver still works where the native
 * addon is not built (`[libvirt] transport = virsh`), and so the benchmark can compare the two.
 */
export class VirshTransport implements LibvirtTransport {
  constructor(
    readonly uri: string,
    private readonly runner: ProcessRunner,
    private readonly timeoutMs: number,
    private readonly virsh = 'virsh',
  ) {}

  /** Runs `virsh -c URI args…`; a non-zero exit is mapped from stderr to a core error. */
  async run(args: string[], options: { timeoutMs?: number; subject?: { kind: string; id: string } } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const op = `virsh ${args[0]}`;
    const r = await this.runner.run(this.virsh, ['-c', this.uri, ...args], { timeoutMs });
    if (r.spawnError) {
      throw new HypervisorUnavailableError(`Cannot run ${this.virsh} (${r.spawnError.message}); install libvirt-clients (apt-get install libvirt-clients).`, { op });
    }
    if (r.timedOut) throw new TimeoutError(`${op} on ${this.uri}`, timeoutMs, 'raise [libvirt] op_timeout_seconds if the host is busy');
    if (r.exitCode !== 0) {
      throw mapLibvirtError(r.stderr || r.stdout || `exit code ${r.exitCode}`, { op, uri: this.uri, timeoutMs, ...(options.subject ? { subject: options.subject } : {}) });
    }
    return r.stdout;
  }

  private dom(uuid: string, args: string[], timeoutMs?: number): Promise<string> {
    return this.run(args, { subject: { kind: 'Instance', id: uuid }, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Files for `define`, `attach-device` and secrets: private directory, 0600, removed afterwards. */
  private async withFile<T>(content: string, fn: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'vp-lv-virsh-'));
    const path = join(dir, 'input.xml');
    try {
      await writeFile(path, content, { mode: 0o600 });
      return await fn(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async open(): Promise<void> {
    await this.run(['uri']);
  }
  async close(): Promise<void> {}
  async hostname(): Promise<string> {
    return (await this.run(['hostname'])).trim();
  }
  async nodeInfo(): Promise<NodeInfo> {
    return parseNodeinfo(await this.run(['nodeinfo']));
  }
  async versions(): Promise<Versions> {
    return parseVersion(await this.run(['version']));
  }

  async listDomains(): Promise<DomainRef[]> {
    return parseUuidNameList(await this.run(['list', '--all', '--uuid', '--name']));
  }
  async listManagedSave(): Promise<string[]> {
    return parseUuidList(await this.run(['list', '--all', '--with-managed-save', '--uuid']));
  }
  async lookup(uuid: string): Promise<DomainRef> {
    return { uuid, name: (await this.dom(uuid, ['domname', uuid])).trim() };
  }
  async find(uuid: string): Promise<DomainRef | null> {
    return this.lookup(uuid).catch((e: unknown) => (e instanceof NotFoundError ? null : Promise.reject(e)));
  }
  async lookupByName(name: string): Promise<DomainRef | null> {
    // `--domain` with a name only: virsh would otherwise also try the string as an id or UUID.
    const out = await this.run(['domuuid', '--domain', name], { subject: { kind: 'Domain', id: name } }).catch((e: unknown) =>
      e instanceof NotFoundError ? null : Promise.reject(e),
    );
    return out === null ? null : { uuid: out.trim(), name };
  }
  async getInfo(uuid: string): Promise<DomainInfo> {
    const { uuid: _u, name: _n, ...info } = parseDominfo(await this.dom(uuid, ['dominfo', uuid]));
    return info;
  }
  async getXml(uuid: string, o: { secure?: boolean; inactive?: boolean } = {}): Promise<string> {
    return this.dom(uuid, ['dumpxml', ...(o.inactive ? ['--inactive'] : []), ...(o.secure ? ['--security-info'] : []), uuid]);
  }

  async define(xml: string): Promise<DomainRef> {
    await this.withFile(xml, (f) => this.run(['define', f]));
    const uuid = /<uuid>\s*([^<\s]+)\s*<\/uuid>/.exec(xml)?.[1];
    const name = /<name>([^<]*)<\/name>/.exec(xml)?.[1];
    if (uuid) return this.lookup(uuid);
    const found = name ? await this.lookupByName(name) : null;
    if (!found) throw new Error('virsh define: the defined domain could not be found again (give the XML a <uuid>)');
    return found;
  }
  async undefine(uuid: string, o: UndefineOptions = {}): Promise<void> {
    await this.dom(uuid, ['undefine', uuid, ...(o.removeAll ? ['--managed-save', '--snapshots-metadata', '--checkpoints-metadata', '--nvram'] : [])]);
  }
  async start(uuid: string): Promise<void> {
    await this.dom(uuid, ['start', uuid]);
  }
  async destroy(uuid: string): Promise<void> {
    await this.dom(uuid, ['destroy', uuid]);
  }
  async shutdown(uuid: string): Promise<void> {
    await this.dom(uuid, ['shutdown', uuid]);
  }
  async suspend(uuid: string): Promise<void> {
    await this.dom(uuid, ['suspend', uuid]);
  }
  async resume(uuid: string): Promise<void> {
    await this.dom(uuid, ['resume', uuid]);
  }
  async save(uuid: string, file: string): Promise<void> {
    await this.dom(uuid, ['save', uuid, file]);
  }
  async restore(file: string, o: { xml?: string; paused?: boolean } = {}): Promise<void> {
    const args = ['restore', file, ...(o.paused ? ['--paused'] : [])];
    if (o.xml) await this.withFile(o.xml, (x) => this.run([...args, '--xml', x]));
    else await this.run(args);
  }
  async reboot(uuid: string): Promise<void> {
    await this.dom(uuid, ['reboot', uuid]);
  }
  async reset(uuid: string): Promise<void> {
    await this.dom(uuid, ['reset', uuid]);
  }
  async managedSave(uuid: string, o: { running?: boolean } = {}): Promise<void> {
    await this.dom(uuid, ['managedsave', uuid, ...(o.running ? ['--running'] : [])]);
  }
  async managedSaveRemove(uuid: string): Promise<void> {
    await this.dom(uuid, ['managedsave-remove', uuid]);
  }

  async setMemory(uuid: string, kib: number, scope: ChangeScope): Promise<void> {
    await this.dom(uuid, ['setmem', uuid, `${kib}KiB`, ...scopeFlags(scope)]);
  }
  async setMaxMemory(uuid: string, kib: number, scope: ChangeScope): Promise<void> {
    await this.dom(uuid, ['setmaxmem', uuid, `${kib}KiB`, ...scopeFlags(scope)]);
  }
  async setVcpus(uuid: string, count: number, scope: ChangeScope & { maximum?: boolean }): Promise<void> {
    await this.dom(uuid, ['setvcpus', uuid, String(count), ...(scope.maximum ? ['--maximum'] : []), ...scopeFlags(scope)]);
  }
  async attachDevice(uuid: string, xml: string, scope: ChangeScope): Promise<void> {
    await this.withFile(xml, (f) => this.dom(uuid, ['attach-device', uuid, f, ...scopeFlags(scope)]));
  }
  async detachDevice(uuid: string, xml: string, scope: ChangeScope): Promise<void> {
    await this.withFile(xml, (f) => this.dom(uuid, ['detach-device', uuid, f, ...scopeFlags(scope)]));
  }
  async setMetadata(uuid: string, ns: { uri: string; key: string }, xml: string | null, scope: ChangeScope): Promise<void> {
    const action = xml === null ? ['--remove'] : ['--set', xml];
    await this.dom(uuid, ['metadata', uuid, ns.uri, '--key', ns.key, ...action, ...scopeFlags(scope)]);
  }
  async domifSetLink(uuid: string, iface: string, state: 'up' | 'down'): Promise<void> {
    await this.dom(uuid, ['domif-setlink', uuid, iface, state]);
  }
  async memtune(uuid: string, params: Record<string, number>, scope: ChangeScope): Promise<void> {
    const args = Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]);
    await this.dom(uuid, ['memtune', uuid, ...args, ...scopeFlags(scope)]);
  }

  async snapshotCreateAs(uuid: string, name: string, o: { diskOnly?: boolean; atomic?: boolean; noMetadata?: boolean; diskSpecs?: string[] } = {}): Promise<void> {
    const flags = [...(o.diskOnly ? ['--disk-only'] : []), ...(o.atomic ? ['--atomic'] : []), ...(o.noMetadata ? ['--no-metadata'] : [])];
    await this.dom(uuid, ['snapshot-create-as', uuid, '--name', name, ...flags, ...(o.diskSpecs ?? []).flatMap((d) => ['--diskspec', d])]);
  }
  async snapshotList(uuid: string): Promise<string[]> {
    return (await this.dom(uuid, ['snapshot-list', uuid, '--name'])).split('\n').map((l) => l.trim()).filter(Boolean);
  }
  async snapshotRevert(uuid: string, name: string): Promise<void> {
    await this.dom(uuid, ['snapshot-revert', uuid, '--snapshotname', name]);
  }
  async snapshotDelete(uuid: string, name: string, o: { metadataOnly?: boolean } = {}): Promise<void> {
    await this.dom(uuid, ['snapshot-delete', uuid, '--snapshotname', name, ...(o.metadataOnly ? ['--metadata'] : [])]);
  }
  async blockCommit(uuid: string, disk: string, o: { active?: boolean; pivot?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const flags = ['--wait', ...(o.active ? ['--active'] : []), ...(o.pivot ? ['--pivot'] : [])];
    await this.dom(uuid, ['blockcommit', uuid, disk, ...flags], o.timeoutMs);
  }
  /**
   * `blockcopy --xml` takes any disk XML as destination, so file, NBD and iSCSI (with CHAP) targets all
   * go the same way. virsh's --timeout aborts the job itself; our process timeout leaves room for that.
   */
  async blockCopy(uuid: string, disk: string, destXml: string, o: BlockCopyOptions = {}): Promise<void> {
    const seconds = o.timeoutMs ? Math.max(1, Math.ceil(o.timeoutMs / 1000)) : undefined;
    const flags = [
      '--wait',
      o.pivot ? '--pivot' : '--finish',
      ...(o.transientJob ? ['--transient-job'] : []),
      ...(o.reuseExternal ? ['--reuse-external'] : []),
      ...(seconds ? ['--timeout', String(seconds)] : []),
    ];
    const processMs = seconds ? seconds * 1000 + this.timeoutMs : undefined;
    await this.withFile(destXml, (f) => this.dom(uuid, ['blockcopy', uuid, disk, '--xml', f, ...flags], processMs));
  }
  async blockJobAbort(uuid: string, disk: string): Promise<void> {
    await this.dom(uuid, ['blockjob', uuid, disk, '--abort']).catch((e: unknown) =>
      // libvirt: "invalid argument: disk vdb does not have an active block job": nothing to cancel.
      /does not have an active block job|no active block job/i.test(String((e as Error)?.message)) ? undefined : Promise.reject(e),
    );
  }
  async migrate(uuid: string, destUri: string, o: MigrateOptions = {}): Promise<void> {
    const flags = [
      ...(o.live ? ['--live'] : []),
      ...(o.persistent ? ['--persistent'] : []),
      ...(o.undefineSource ? ['--undefinesource'] : []),
      ...(o.copyStorage === 'all' ? ['--copy-storage-all'] : o.copyStorage === 'inc' ? ['--copy-storage-inc'] : []),
    ];
    await this.dom(uuid, ['migrate', ...flags, '--domain', uuid, '--desturi', destUri, ...(o.migrateUri ? ['--migrateuri', o.migrateUri] : [])], o.timeoutMs);
  }
  async domstats(uuid: string): Promise<Record<string, string>> {
    return parseDomstats(await this.dom(uuid, ['domstats', uuid]));
  }
  async qemuMonitorCommand(uuid: string, command: Record<string, unknown>): Promise<unknown> {
    return JSON.parse(await this.dom(uuid, ['qemu-monitor-command', uuid, JSON.stringify(command)])) as unknown;
  }

  async secretDefine(spec: SecretSpec): Promise<string> {
    const xml =
      `<secret ephemeral='no' private='yes'><description>${escapeXml(spec.description)}</description>` +
      `<usage type='iscsi'><target>${escapeXml(spec.usage)}</target></usage></secret>`;
    return parseSecretDefine(await this.withFile(xml, (f) => this.run(['secret-define', f])));
  }
  async secretSetValueFromFile(secretUuid: string, file: string): Promise<void> {
    await this.run(['secret-set-value', secretUuid, '--file', file, '--plain'], { subject: { kind: 'libvirt secret', id: secretUuid } });
  }
  async secretUndefine(secretUuid: string): Promise<void> {
    await this.run(['secret-undefine', secretUuid], { subject: { kind: 'libvirt secret', id: secretUuid } });
  }
  async secretList(): Promise<Array<{ uuid: string; usage: string }>> {
    return parseSecretList(await this.run(['secret-list']));
  }
}
