import { InvalidArgumentError } from '@virtplug/core';
import { AGENT_CHANNEL_NAME } from '../xml/domain-spec.js';
import { child, el, elements, ensureChild, removeChildren, setText, type XmlElement } from '../xml/tree.js';
import { addQmpMonitor, removeQmpMonitor, setRamBackend, useFeatureWordsCpuReadback, type RamBackend } from './shared-ram.js';

export interface CloneXmlSpec {
  name: string;
  uuid: string;
  /** New MAC per interface, in device order. */
  macs: string[];
  /** New file per writable file disk, by target dev (vda…). */
  disks: Record<string, string>;
  serialLog: string;
  agentSocket: string;
  /** Where other unix channels of the template go (one file per channel). */
  channelDir: string;
  ram: RamBackend | null;
  /** Adds our QMP monitor socket (every restore: links, and x-ignore-shared in shared mode). */
  qmpSocket?: string;
  /** Start with every NIC's link down (the clone still has the template's identity). */
  linkDown: boolean;
  /** Our `<metadata>` child (replaces any VMS element the template carried). */
  metadata?: XmlElement;
  metadataNs?: string;
}

/** Writable disks backed by a file: the ones a clone needs its own overlay for. */
export function writableFileDisks(domain: XmlElement): Array<{ target: string; path: string; format: string }> {
  const devices = child(domain, 'devices');
  if (!devices) return [];
  return elements(devices, 'disk')
    .filter((d) => (d.attrs.device ?? 'disk') === 'disk' && d.attrs.type === 'file' && !child(d, 'readonly') && !child(d, 'shareable'))
    .map((d) => ({ target: child(d, 'target')?.attrs.dev ?? '', path: child(d, 'source')?.attrs.file ?? '', format: child(d, 'driver')?.attrs.type ?? 'raw' }))
    .filter((d) => d.target && d.path);
}

/**
 * Writable disks a clone could not get its own copy of (block devices, NBD/iSCSI volumes): clones would
 * share them with the source and corrupt them, so bless refuses while any is attached.
 */
export function sharedWritableDisks(domain: XmlElement): string[] {
  const devices = child(domain, 'devices');
  if (!devices) return [];
  return elements(devices, 'disk')
    .filter((d) => ['disk', 'lun', undefined].includes(d.attrs.device) && !child(d, 'readonly') && d.attrs.type !== 'file')
    .map((d) => `${child(d, 'target')?.attrs.dev ?? '?'} (${d.attrs.type ?? '?'})`);
}

export function interfaceMacs(domain: XmlElement): string[] {
  const devices = child(domain, 'devices');
  return devices ? elements(devices, 'interface').map((i) => child(i, 'mac')?.attrs.address ?? '') : [];
}

/**
 * QEMU's id of each NIC, in interface order: libvirt's alias (kept from the template, since the device
 * state refers to it), or the `net<i>` libvirt assigns to an interface that has none.
 */
export function interfaceAliases(domain: XmlElement): string[] {
  const devices = child(domain, 'devices');
  return devices ? elements(devices, 'interface').map((iface, i) => child(iface, 'alias')?.attrs.name ?? `net${i}`) : [];
}

/**
 * Turns the template's XML (as saved in its state image) into a clone's: new identity and files, the
 * same machine. Everything that names the template's resources (name, UUID, MACs, tap devices, disk,
 * console and channel paths, fixed VNC ports) is replaced or left for libvirt to allocate; addresses,
 * aliases and device order stay, because they must match the device state in the stream.
 */
export function rewriteForClone(domain: XmlElement, spec: CloneXmlSpec): void {
  delete domain.attrs.id;
  setText(ensureChild(domain, 'name'), spec.name);
  setText(ensureChild(domain, 'uuid'), spec.uuid);
  const genid = child(domain, 'genid');
  if (genid) genid.children = []; // empty: libvirt generates a fresh VM generation id

  if (spec.metadataNs) {
    const md = child(domain, 'metadata');
    if (md) removeChildren(md, (e) => Object.values(e.attrs).includes(spec.metadataNs!));
  }
  if (spec.metadata) ensureChild(domain, 'metadata', 'uuid').children.push(spec.metadata);

  const devices = child(domain, 'devices');
  if (!devices) throw new InvalidArgumentError('template XML', 'no <devices>', 'a libvirt domain XML');

  const ifaces = elements(devices, 'interface');
  if (ifaces.length !== spec.macs.length) throw new InvalidArgumentError('clone MAC list', spec.macs.length, `${ifaces.length} MACs (one per interface)`);
  ifaces.forEach((iface, i) => {
    ensureChild(iface, 'mac').attrs.address = spec.macs[i]!;
    removeChildren(iface, (e) => e.name === 'target' || e.name === 'link');
    if (spec.linkDown) iface.children.push(el('link', { state: 'down' }));
  });

  for (const d of elements(devices, 'disk')) {
    const target = child(d, 'target')?.attrs.dev ?? '';
    const path = spec.disks[target];
    if (path === undefined) continue;
    ensureChild(d, 'source').attrs.file = path;
    const source = child(d, 'source')!;
    delete source.attrs.index;
    // The live chain describes the template's overlay; libvirt probes the clone's own.
    removeChildren(d, (e) => e.name === 'backingStore');
  }

  let channelNo = 0;
  for (const c of [...elements(devices, 'serial'), ...elements(devices, 'console'), ...elements(devices, 'channel')]) {
    const source = child(c, 'source');
    const isAgent = c.name === 'channel' && child(c, 'target')?.attrs.name === AGENT_CHANNEL_NAME;
    if (c.attrs.type === 'file' && source) source.attrs.path = spec.serialLog;
    else if (c.attrs.type === 'pty') {
      removeChildren(c, (e) => e.name === 'source');
      delete c.attrs.tty;
    } else if (c.attrs.type === 'unix' && source) {
      source.attrs.path = isAgent ? spec.agentSocket : `${spec.channelDir}/channel-${channelNo++}.sock`;
    }
    const log = child(c, 'log');
    if (log?.attrs.file) log.attrs.file = spec.serialLog;
  }

  for (const g of elements(devices, 'graphics')) {
    // A fixed port would collide with the template's; let libvirt pick.
    g.attrs.autoport = 'yes';
    g.attrs.port = '-1';
    delete g.attrs.websocket;
  }

  if (spec.ram) setRamBackend(domain, spec.ram);
  if (spec.qmpSocket) addQmpMonitor(domain, spec.qmpSocket);
  else removeQmpMonitor(domain);
  useFeatureWordsCpuReadback(domain);
}

/** The XML a clone keeps as its persistent definition: anonymous RAM, no restore-time monitor. */
export function persistentCloneXml(live: XmlElement, hadRamBackend: boolean, backend: RamBackend = { kind: 'ram' }): void {
  delete live.attrs.id;
  removeQmpMonitor(live);
  if (hadRamBackend) setRamBackend(live, backend);
  const devices = child(live, 'devices');
  for (const iface of devices ? elements(devices, 'interface') : []) removeChildren(iface, (e) => e.name === 'link');
}
