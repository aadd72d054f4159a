import { InvalidArgumentError } from '@virtplug/core';
import { AGENT_CHANNEL_NAME, VIRTIO_SERIAL_PORTS, type DiskSpec, type DomainSpec, type GraphicsSpec, type InterfaceSpec } from './domain-spec.js';
import { applyMetadata, type MetadataPatch } from './metadata.js';
import { validateDomainName, validateUuid } from './names.js';
import { el, serializeXml, type XmlElement } from './tree.js';

const TARGET = /^(vd|sd|hd|xvd)[a-z]{1,2}$/;
const SERIAL = /^[A-Za-z0-9_.+-]{1,20}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function diskElement(d: DiskSpec): XmlElement {
  if (!TARGET.test(d.target)) throw new InvalidArgumentError('disk target device', d.target, 'a device name like vdb');
  if (d.serial !== undefined && !SERIAL.test(d.serial)) throw new InvalidArgumentError('disk serial', d.serial, '1–20 characters of A-Z a-z 0-9 _ . + -');
  const bus = d.bus ?? 'virtio';
  const driver = el('driver', { name: 'qemu', type: d.format, cache: d.cache });
  const tail = [el('target', { dev: d.target, bus }), d.readonly ? el('readonly') : null, d.serial ? el('serial', {}, d.serial) : null];
  if (d.kind === 'file') {
    if (!d.path.startsWith('/')) throw new InvalidArgumentError('disk path', d.path, 'an absolute path');
    return el('disk', { type: 'file', device: 'disk' }, driver, el('source', { file: d.path }), ...tail);
  }
  if (d.hosts.length === 0) throw new InvalidArgumentError(`${d.protocol} disk hosts`, d.hosts, 'at least one host:port');
  const hosts = d.hosts.map((h) => el('host', { name: h.name, port: h.port }));
  const auth = d.auth ? el('auth', { username: d.auth.username }, el('secret', { type: 'iscsi', usage: d.auth.secretUsage })) : null;
  const initiator = d.initiatorIqn ? el('initiator', {}, el('iqn', { name: d.initiatorIqn })) : null;
  const source = el('source', { protocol: d.protocol, name: d.sourceName }, ...hosts, auth, initiator);
  return el('disk', { type: 'network', device: 'disk' }, driver, source, ...tail);
}

export function interfaceElement(i: InterfaceSpec): XmlElement {
  if (i.mac !== undefined && !MAC.test(i.mac)) throw new InvalidArgumentError('MAC address', i.mac, 'six hex pairs like 52:54:00:12:34:56');
  const common = [i.mac ? el('mac', { address: i.mac.toLowerCase() }) : null, el('model', { type: i.model ?? 'virtio' }), i.devName ? el('target', { dev: i.devName }) : null];
  switch (i.kind) {
    case 'network':
      return el('interface', { type: 'network' }, el('source', { network: i.network }), ...common);
    case 'bridge':
      return el(
        'interface',
        { type: 'bridge' },
        el('source', { bridge: i.bridge }),
        i.openvswitch ? el('virtualport', { type: 'openvswitch' }) : null,
        i.vlanTag !== undefined ? el('vlan', {}, el('tag', { id: i.vlanTag })) : null,
        ...common,
      );
    case 'user':
      return el('interface', { type: 'user' }, ...common);
  }
}

/** The `<domain>` tree for a spec, with our metadata (which marks the domain as managed by virtplug). */
export function buildDomainTree(spec: DomainSpec, metadata?: MetadataPatch): XmlElement {
  validateDomainName(spec.name);
  validateUuid(spec.uuid);
  if (!(spec.memoryKb > 0) || !Number.isInteger(spec.memoryKb)) throw new InvalidArgumentError('memory (KiB)', spec.memoryKb, 'a positive integer');
  if (!(spec.vcpus > 0) || !Number.isInteger(spec.vcpus)) throw new InvalidArgumentError('vCPU count', spec.vcpus, 'a positive integer');
  const os = spec.os;
  const devices = el(
    'devices',
    {},
    spec.emulator ? el('emulator', {}, spec.emulator) : null,
    ...spec.disks.map(diskElement),
    ...spec.interfaces.map(interfaceElement),
    // append: a restart (managed-save resume, reboot, resize) must not truncate the log.
    spec.serialLog ? el('serial', { type: 'file' }, el('source', { path: spec.serialLog, append: 'on' }), el('target', { port: 0 })) : null,
    spec.serialLog ? el('console', { type: 'file' }, el('source', { path: spec.serialLog, append: 'on' }), el('target', { type: 'serial', port: 0 })) : null,
    spec.agentSocket
      ? el('channel', { type: 'unix' }, el('source', { mode: 'bind', path: spec.agentSocket }), el('target', { type: 'virtio', name: AGENT_CHANNEL_NAME }))
      : null,
    // libvirt's default virtio-serial controller has 31 ports, i.e. 64 virtqueues, each with an
    // ioeventfd QEMU sets up on every resume: 10-25 ms of a VMS clone's first `cont` under TCG, and
    // queues the guest services for nothing. The agent needs one port; 4 leave room for more channels.
    spec.agentSocket ? el('controller', { type: 'virtio-serial', index: 0, ports: VIRTIO_SERIAL_PORTS }) : null,
    spec.vnc ? graphicsElement('vnc', spec.vnc) : null,
    // No <video> here: libvirt adds its default (cirrus on pc) for any graphics device, which SPICE accepts under TCG.
    spec.spice ? graphicsElement('spice', spec.spice) : null,
    spec.memballoon === false ? el('memballoon', { model: 'none' }) : el('memballoon', { model: 'virtio' }),
  );
  const root = el(
    'domain',
    { type: spec.type },
    el('name', {}, spec.name),
    el('uuid', {}, spec.uuid.toLowerCase()),
    el('memory', { unit: 'KiB' }, spec.memoryKb),
    el('currentMemory', { unit: 'KiB' }, spec.currentMemoryKb ?? spec.memoryKb),
    el('vcpu', { placement: 'static' }, spec.vcpus),
    el(
      'os',
      {},
      el('type', { arch: os.arch ?? 'x86_64', machine: spec.type === 'qemu' || spec.type === 'kvm' ? os.machine : undefined }, 'hvm'),
      os.kernel ? el('kernel', {}, os.kernel) : null,
      os.initrd ? el('initrd', {}, os.initrd) : null,
      os.cmdline !== undefined && os.kernel ? el('cmdline', {}, os.cmdline) : null,
      os.kernel ? null : el('boot', { dev: 'hd' }),
    ),
    el('features', {}, el('acpi')),
    spec.cpuMode && spec.cpuMode !== 'none' ? el('cpu', { mode: spec.cpuMode }) : null,
    el('clock', { offset: 'utc' }),
    el('on_poweroff', {}, spec.onPoweroff ?? 'destroy'),
    el('on_reboot', {}, spec.onReboot ?? 'restart'),
    el('on_crash', {}, spec.onCrash ?? 'destroy'),
    devices,
  );
  if (metadata) applyMetadata(root, metadata);
  return root;
}

export function buildDomainXml(spec: DomainSpec, metadata?: MetadataPatch): string {
  return serializeXml(buildDomainTree(spec, metadata));
}

/** `<graphics>` of a console. An autoport VNC says port='-1' as it always has; libvirt's own XML leaves it out for SPICE. */
function graphicsElement(type: 'vnc' | 'spice', g: GraphicsSpec): XmlElement {
  const port = g.port ?? (type === 'vnc' ? -1 : undefined);
  return el('graphics', { type, port, autoport: g.port ? 'no' : 'yes', listen: g.listen, passwd: g.password }, el('listen', { type: 'address', address: g.listen }));
}
