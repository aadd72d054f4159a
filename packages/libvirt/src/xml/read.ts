import { AGENT_CHANNEL_NAME, type DiskSpec, type DomainSpec, type DomainType, type GraphicsSpec, type InterfaceSpec } from './domain-spec.js';
import { readMetadata, type VirtplugMetadata } from './metadata.js';
import { child, elements, findPath, parseXml, textOf, type XmlElement } from './tree.js';

/** A read-only typed view of a domain's XML: what the driver needs to act on an existing domain. */
export interface DomainView {
  spec: DomainSpec;
  metadata?: VirtplugMetadata;
  /** Live VNC port (-1 or undefined until running with autoport). */
  vncPort?: number;
  /** Live SPICE port and TLS port (absent until running with autoport). */
  spicePort?: number;
  spiceTlsPort?: number;
  /** Live domain id (absent when shut off). */
  id?: number;
  tree: XmlElement;
}

const KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024 };

function kib(e: XmlElement | undefined): number {
  if (!e) return 0;
  const unit = (e.attrs.unit ?? 'KiB').toLowerCase();
  return Math.round(Number(textOf(e) ?? 0) * (KIB[unit] ?? 1));
}

function readDisk(d: XmlElement): DiskSpec | undefined {
  const target = child(d, 'target');
  const source = child(d, 'source');
  const driver = child(d, 'driver');
  if (!target?.attrs.dev || (d.attrs.device ?? 'disk') !== 'disk') return undefined;
  const common = {
    target: target.attrs.dev,
    format: (driver?.attrs.type === 'raw' ? 'raw' : 'qcow2') as 'raw' | 'qcow2',
    ...(target.attrs.bus ? { bus: target.attrs.bus as 'virtio' } : {}),
    ...(textOf(child(d, 'serial')) ? { serial: textOf(child(d, 'serial'))! } : {}),
    ...(child(d, 'readonly') ? { readonly: true } : {}),
    ...(driver?.attrs.cache ? { cache: driver.attrs.cache as 'none' } : {}),
  };
  if (d.attrs.type === 'file' && source?.attrs.file) return { kind: 'file', path: source.attrs.file, ...common };
  if (d.attrs.type === 'network' && source && (source.attrs.protocol === 'nbd' || source.attrs.protocol === 'iscsi')) {
    const auth = child(source, 'auth');
    const secret = child(auth, 'secret');
    const iqn = child(child(source, 'initiator'), 'iqn')?.attrs.name;
    return {
      kind: 'network',
      protocol: source.attrs.protocol,
      ...(source.attrs.name ? { sourceName: source.attrs.name } : {}),
      hosts: elements(source, 'host').map((h) => ({ name: h.attrs.name ?? '', port: Number(h.attrs.port ?? 0) })),
      ...(auth && secret?.attrs.usage ? { auth: { username: auth.attrs.username ?? '', secretUsage: secret.attrs.usage } } : {}),
      ...(iqn ? { initiatorIqn: iqn } : {}),
      ...common,
    };
  }
  return undefined;
}

function readInterface(i: XmlElement): InterfaceSpec | undefined {
  const mac = child(i, 'mac')?.attrs.address;
  const model = child(i, 'model')?.attrs.type;
  const dev = child(i, 'target')?.attrs.dev;
  const base = { ...(mac ? { mac } : {}), ...(model ? { model } : {}), ...(dev ? { devName: dev } : {}) };
  const source = child(i, 'source');
  if (i.attrs.type === 'network') return { kind: 'network', network: source?.attrs.network ?? '', ...base };
  if (i.attrs.type === 'bridge') {
    const tag = child(child(i, 'vlan'), 'tag')?.attrs.id;
    return {
      kind: 'bridge',
      bridge: source?.attrs.bridge ?? '',
      ...(child(i, 'virtualport')?.attrs.type === 'openvswitch' ? { openvswitch: true } : {}),
      ...(tag !== undefined ? { vlanTag: Number(tag) } : {}),
      ...base,
    };
  }
  if (i.attrs.type === 'user') return { kind: 'user', ...base };
  return undefined;
}

export function readDomain(xmlOrTree: string | XmlElement): DomainView {
  const tree = typeof xmlOrTree === 'string' ? parseXml(xmlOrTree) : xmlOrTree;
  const os = child(tree, 'os');
  const osType = child(os, 'type');
  const devices = child(tree, 'devices');
  const devs = devices ? elements(devices) : [];
  const serial = devs.find((d) => d.name === 'serial' && d.attrs.type === 'file');
  const channel = devs.find((d) => d.name === 'channel' && d.attrs.type === 'unix' && child(d, 'target')?.attrs.name === AGENT_CHANNEL_NAME);
  const vnc = devs.find((d) => d.name === 'graphics' && d.attrs.type === 'vnc');
  const spice = devs.find((d) => d.name === 'graphics' && d.attrs.type === 'spice');
  const cpuMode = child(tree, 'cpu')?.attrs.mode;
  const text = (e: XmlElement | undefined) => textOf(e) ?? undefined;
  const onX = (n: string) => text(child(tree, n)) as DomainSpec['onPoweroff'];
  const spec: DomainSpec = {
    type: (tree.attrs.type ?? 'qemu') as DomainType,
    name: text(child(tree, 'name')) ?? '',
    uuid: (text(child(tree, 'uuid')) ?? '').trim(),
    memoryKb: kib(child(tree, 'memory')),
    currentMemoryKb: kib(child(tree, 'currentMemory')) || kib(child(tree, 'memory')),
    vcpus: Number(text(child(tree, 'vcpu')) ?? 1),
    os: {
      ...(osType?.attrs.arch ? { arch: osType.attrs.arch } : {}),
      ...(osType?.attrs.machine ? { machine: osType.attrs.machine } : {}),
      ...(text(child(os, 'kernel')) ? { kernel: text(child(os, 'kernel'))! } : {}),
      ...(text(child(os, 'initrd')) ? { initrd: text(child(os, 'initrd'))! } : {}),
      ...(child(os, 'cmdline') ? { cmdline: text(child(os, 'cmdline')) ?? '' } : {}),
    },
    ...(cpuMode === 'host-model' || cpuMode === 'host-passthrough' ? { cpuMode } : {}),
    ...(text(findPath(tree, ['devices', 'emulator'])) ? { emulator: text(findPath(tree, ['devices', 'emulator']))! } : {}),
    disks: devs.filter((d) => d.name === 'disk').map(readDisk).filter((d): d is DiskSpec => !!d),
    interfaces: devs.filter((d) => d.name === 'interface').map(readInterface).filter((i): i is InterfaceSpec => !!i),
    ...(serial && child(serial, 'source')?.attrs.path ? { serialLog: child(serial, 'source')!.attrs.path! } : {}),
    ...(channel && child(channel, 'source')?.attrs.path ? { agentSocket: child(channel, 'source')!.attrs.path! } : {}),
    ...(vnc ? { vnc: graphicsOf(vnc) } : {}),
    ...(spice ? { spice: graphicsOf(spice) } : {}),
    memballoon: devs.find((d) => d.name === 'memballoon')?.attrs.model !== 'none',
    ...(onX('on_poweroff') ? { onPoweroff: onX('on_poweroff') } : {}),
    ...(onX('on_reboot') ? { onReboot: onX('on_reboot') as DomainSpec['onReboot'] } : {}),
    ...(onX('on_crash') ? { onCrash: onX('on_crash') as DomainSpec['onCrash'] } : {}),
  };
  const metadata = readMetadata(tree);
  const port = vnc?.attrs.port !== undefined ? Number(vnc.attrs.port) : undefined;
  const num = (v: string | undefined) => (v !== undefined && Number(v) > 0 ? Number(v) : undefined);
  const spicePort = num(spice?.attrs.port);
  const spiceTlsPort = num(spice?.attrs.tlsPort);
  return {
    spec,
    tree,
    ...(metadata ? { metadata } : {}),
    ...(port !== undefined ? { vncPort: port } : {}),
    ...(spicePort !== undefined ? { spicePort } : {}),
    ...(spiceTlsPort !== undefined ? { spiceTlsPort } : {}),
    ...(tree.attrs.id !== undefined ? { id: Number(tree.attrs.id) } : {}),
  };
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e.toLowerCase()]!,
  );

/**
 * What getInfo needs from a domain's XML (name, live id, rescue flag) without a full parse: a full
 * xml2js parse costs ~0.2 ms per domain, which dominates listing many domains. libvirt always writes
 * `<name>` as the root's first child; the rescue flag is parsed properly only when the text can hold it.
 */
export function quickFacts(xml: string): { name: string; id?: number; rescued: boolean } {
  const root = /^\s*(?:<\?xml[^>]*>\s*)?<domain\b([^>]*)>\s*<name>([^<]*)<\/name>/.exec(xml);
  if (!root) {
    const v = readDomain(xml);
    return { name: v.spec.name, ...(v.id !== undefined ? { id: v.id } : {}), rescued: v.metadata?.rescued === true };
  }
  const id = /\bid=['"](\d+)['"]/.exec(root[1]!)?.[1];
  const rescued = xml.includes('rescued') ? readDomain(xml).metadata?.rescued === true : false;
  return { name: decode(root[2]!), ...(id !== undefined ? { id: Number(id) } : {}), rescued };
}

/** A console's listen address and password, as build.ts writes them (a live domain adds its port). */
function graphicsOf(g: XmlElement): GraphicsSpec {
  return { listen: g.attrs.listen ?? child(g, 'listen')?.attrs.address ?? '', ...(g.attrs.passwd ? { password: g.attrs.passwd } : {}) };
}
