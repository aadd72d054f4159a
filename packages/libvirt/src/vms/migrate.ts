import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HypervisorUnavailableError, InvalidArgumentError, InvalidStateError, NotFoundError, OperationFailedError } from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import { child, elements, parseXml, serializeXml, type XmlElement } from '../xml/tree.js';
import type { VmsContext } from './context.js';
import { domainState, findDomain, notFound, readVmsMetadata } from './domains.js';
import { FileLock } from './locks.js';
import { ignoreSharedCommand } from './qmp.js';
import { readRamBackend, removeQmpMonitor, setRamBackend } from './shared-ram.js';

const SAME_HOST = 'a host other than this one (Unable to migrate to the same host)';
const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * gc-migrate: live migration to another libvirt host (peer URI qemu+tcp://<host>/system, data on
 * tcp://<host>), with storage shared at the same paths. Validation mirrors cobalt: the instance must
 * be running and not already migrating, the destination must resolve, must not be this host (libvirt
 * compares host UUIDs), and must have libvirt reachable. A shared-RAM domain arrives with anonymous
 * RAM (its pages are all sent), so nothing on the destination depends on this host's RAM files.
 */
export async function migrate(ctx: VmsContext, instanceId: string, destHost: string): Promise<void> {
  if (typeof destHost !== 'string' || !HOST_RE.test(destHost)) throw new InvalidArgumentError('destination host', destHost, 'a host name or IPv4 address');
  if (ctx.manifests.read(instanceId)) throw new InvalidStateError(`Instance ${instanceId} is a live image; only running instances can be migrated.`, { id: instanceId });
  const dom = await findDomain(ctx, instanceId);
  if (!dom) throw notFound(instanceId);
  if ((await domainState(ctx, dom.uuid)) !== DomainState.RUNNING) {
    throw new InvalidStateError(`Instance ${dom.uuid} is not active. Cannot migrate a non-active instance.`, { id: dom.uuid });
  }
  const lockPath = ctx.layout.lock(dom.uuid);
  const holder = FileLock.holder(lockPath);
  if (holder?.op === 'migrate' || (await jobRunning(ctx, dom.uuid))) {
    throw new InvalidStateError(`Instance ${dom.uuid} is already being migrated.`, { id: dom.uuid });
  }
  const addr = await resolveHost(destHost);
  if (isLocalAddress(addr) || destHost === hostname()) throw new InvalidArgumentError('destination host', destHost, SAME_HOST);
  const destUri = `qemu+tcp://${destHost}/system`;
  const destUuid = await remoteHostUuid(ctx, destUri, destHost);
  if (destUuid === (await localHostUuid(ctx))) throw new InvalidArgumentError('destination host', destHost, SAME_HOST);

  const lock = await FileLock.acquire(lockPath, 'migrate', `Instance ${dom.uuid}`, 0).catch(() => {
    throw new InvalidStateError(`Instance ${dom.uuid} is already being migrated (or blessed); retry when that is done.`, { id: dom.uuid });
  });
  const dir = await mkdtemp(join(tmpdir(), 'vp-vms-migrate-'));
  try {
    // The migratable form is what libvirt checks the destination XML against (ABI stability).
    const tree = parseXml(await ctx.virsh.run(['dumpxml', '--migratable', '--security-info', dom.uuid], { subject: { kind: 'Instance', id: dom.uuid } }));
    delete tree.attrs.id;
    removeQmpMonitor(tree);
    renameChannelSockets(tree);
    if (readRamBackend(tree)) {
      setRamBackend(tree, { kind: 'ram' });
      // A template may still have it on from an interrupted bless: its RAM would not be sent at all.
      await ctx.transport.qemuMonitorCommand(dom.uuid, ignoreSharedCommand(false));
    }
    const xmlFile = join(dir, 'dest.xml');
    await writeFile(xmlFile, serializeXml(tree), { mode: 0o600 });
    const meta = await readVmsMetadata(ctx, dom.uuid);
    await ctx.virsh.run(
      // --unsafe: libvirt calls any disk on a local filesystem unsafe to migrate; VMS requires the
      // destination to see the same paths (shared storage, as in the two-host lab), which libvirt
      // cannot verify for a local filesystem.
      ['migrate', '--live', '--persistent', '--undefinesource', '--unsafe', '--domain', dom.uuid, '--desturi', destUri, '--migrateuri', `tcp://${destHost}`, '--xml', xmlFile, '--persistent-xml', xmlFile],
      { subject: { kind: 'Instance', id: dom.uuid }, timeoutMs: ctx.timeouts.migrateMs },
    );
    if (meta.clone) {
      const from = meta.clone.launchedFrom;
      const lk = await FileLock.acquire(ctx.layout.lock(from), 'migrate-record', `Live image ${from}`);
      try {
        const m = ctx.manifests.read(from);
        if (m) ctx.manifests.write({ ...m, migratedClones: [...(m.migratedClones ?? []), { uuid: dom.uuid, destUri }] });
      } finally {
        lk.release();
      }
    }
    ctx.logger.info({ instance: dom.uuid, dest: destUri }, 'migrated');
  } finally {
    lock.release();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A unix channel socket (the guest agent's) must get a new path on the destination: the source QEMU
 * unlinks its socket path when it exits after the migration, which would take the new one with it.
 */
function renameChannelSockets(tree: XmlElement): void {
  const devices = child(tree, 'devices');
  for (const c of devices ? elements(devices, 'channel') : []) {
    const source = child(c, 'source');
    if (c.attrs.type !== 'unix' || !source?.attrs.path) continue;
    const p = source.attrs.path;
    const dot = p.lastIndexOf('.') > p.lastIndexOf('/') ? p.lastIndexOf('.') : p.length;
    const stem = p.slice(0, dot).replace(/-m[0-9a-f]{6}$/, '');
    source.attrs.path = `${stem}-m${randomBytes(3).toString('hex')}${p.slice(dot)}`;
  }
}

async function jobRunning(ctx: VmsContext, uuid: string): Promise<boolean> {
  const out = await ctx.virsh.run(['domjobinfo', uuid], { subject: { kind: 'Instance', id: uuid } }).catch(() => '');
  return /Job type:\s+(Bounded|Unbounded)/i.test(out);
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    throw new NotFoundError('Host', host, 'it does not resolve; give a host name or address of a libvirt host');
  }
}

function isLocalAddress(addr: string): boolean {
  if (addr.startsWith('127.') || addr === '0.0.0.0') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.address === addr));
}

async function remoteHostUuid(ctx: VmsContext, uri: string, host: string): Promise<string> {
  const caps = await ctx.runner.run('virsh', ['-c', uri, 'capabilities'], { timeoutMs: 15_000 });
  if (caps.exitCode !== 0 || caps.timedOut) {
    throw new HypervisorUnavailableError(
      `Cannot migrate to host ${host} because it is not running libvirt reachable at ${uri} (${(caps.stderr || (caps.timedOut ? 'timed out' : '')).trim().split('\n').pop()}); start libvirtd there with listen_tcp (see tools/lab/two-host.sh).`,
      { host, uri },
    );
  }
  return hostUuidOf(caps.stdout);
}

async function localHostUuid(ctx: VmsContext): Promise<string> {
  return hostUuidOf(await ctx.virsh.run(['capabilities']));
}

function hostUuidOf(capabilities: string): string {
  const m = /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(capabilities);
  if (!m) throw new OperationFailedError('libvirt capabilities have no <host><uuid>');
  return m[1]!.trim();
}
