import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { child, elements, parseXml, serializeXml, textOf } from '../xml/tree.js';
import { interfaceAliases, interfaceMacs, persistentCloneXml, rewriteForClone, sharedWritableDisks, writableFileDisks } from './clone-xml.js';
import { cloneMetadataElement, parseVmsMetadata, VMS_NS } from './records.js';
import { addQmpMonitor, CPU_PROPERTY_SCAN_CAPABILITY, makeSharedTemplate, readRamBackend, removeQmpMonitor, setRamBackend } from './shared-ram.js';

const TEMPLATE = readFileSync(new URL('./__fixtures__/template-live.xml', import.meta.url), 'utf8');
const CLONE_UUID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function cloneOf(xml: string, name = 'tmpl-clone-1') {
  const tree = parseXml(xml);
  rewriteForClone(tree, {
    name,
    uuid: CLONE_UUID,
    macs: ['52:54:00:12:34:56'],
    disks: { vda: '/state/vms/b/clones/c/disk-vda.qcow2' },
    serialLog: '/state/vms/b/clones/c/console.log',
    agentSocket: '/run/virtplug-vms/c/agent.sock',
    channelDir: '/run/virtplug-vms/c',
    ram: { kind: 'file', path: '/dev/shm/virtplug-vms/b.ram', share: false },
    qmpSocket: '/run/virtplug-vms/c/qmp.sock',
    linkDown: true,
    metadata: cloneMetadataElement({ launchedFrom: 'b', blessedFrom: 's', mode: 'shared', status: 'launching', createdAt: 'now' }),
    metadataNs: VMS_NS,
  });
  return tree;
}

describe('clone XML rewrite', () => {
  it('gives the clone its own identity and files and keeps the machine', () => {
    const tree = cloneOf(TEMPLATE);
    const xml = serializeXml(tree);
    expect(tree.attrs.id).toBeUndefined();
    expect(textOf(child(tree, 'name'))).toBe('tmpl-clone-1');
    expect(textOf(child(tree, 'uuid'))).toBe(CLONE_UUID);
    expect(interfaceMacs(tree)).toEqual(['52:54:00:12:34:56']);
    const iface = elements(child(tree, 'devices')!, 'interface')[0]!;
    expect(child(iface, 'target')).toBeUndefined();
    expect(child(iface, 'link')?.attrs.state).toBe('down');
    // PCI addresses and aliases must match the device state in the stream.
    expect(child(iface, 'address')?.attrs.slot).toBe('0x02');
    expect(child(iface, 'alias')?.attrs.name).toBe('net0');
    const disk = elements(child(tree, 'devices')!, 'disk')[0]!;
    expect(child(disk, 'source')?.attrs.file).toBe('/state/vms/b/clones/c/disk-vda.qcow2');
    expect(child(disk, 'backingStore')).toBeUndefined();
    expect(xml).not.toContain('/var/lib/virtplug/instances/11111111');
    expect(xml).toContain("path='/run/virtplug-vms/c/agent.sock'");
    expect(xml).toContain("path='/state/vms/b/clones/c/console.log'");
    const g = elements(child(tree, 'devices')!, 'graphics')[0]!;
    expect(g.attrs).toMatchObject({ autoport: 'yes', port: '-1', passwd: 's3cret' });
  });

  it('replaces the template RAM file with a private mapping of the blessed file', () => {
    const tree = cloneOf(TEMPLATE);
    expect(readRamBackend(tree)).toEqual({ kind: 'file', path: '/dev/shm/virtplug-vms/b.ram', share: false });
    const xml = serializeXml(tree);
    expect(xml).not.toContain('live/11111111');
    expect(xml.match(/memory-backend=vpram/g)).toHaveLength(1);
    expect(xml).toContain('socket,id=vpqmp,path=/run/virtplug-vms/c/qmp.sock,server=on,wait=off');
  });

  it('drops the source VMS counter and carries the clone record', () => {
    const tree = cloneOf(TEMPLATE);
    const md = serializeXml(child(tree, 'metadata')!);
    expect(md).not.toContain('last_clone_num');
    expect(md).toContain("xmlns:virtplug='https://virtplug.dev/xmlns/libvirt/1'");
    expect(parseVmsMetadata(md).clone).toMatchObject({ launchedFrom: 'b', status: 'launching', mode: 'shared' });
  });

  it('escapes names with quotes, <, & and $(…)', () => {
    const name = `it's <"odd"> & $(echo pwned)`;
    const xml = serializeXml(cloneOf(TEMPLATE, name));
    expect(textOf(child(parseXml(xml), 'name'))).toBe(name);
    expect(xml).not.toContain('<"odd">');
  });

  it('makes the persistent definition independent of the live image', () => {
    const tree = cloneOf(TEMPLATE);
    persistentCloneXml(tree, true);
    expect(readRamBackend(tree)).toEqual({ kind: 'ram' });
    const xml = serializeXml(tree);
    expect(xml).not.toContain('vpqmp');
    expect(xml).not.toContain("<link state='down'/>");
  });

  it('masks the per-property CPU readback capability once, also for a clone of a clone', () => {
    const once = cloneOf(TEMPLATE);
    const twice = cloneOf(serializeXml(once), 'tmpl-clone-1-clone-1');
    for (const tree of [once, twice]) {
      const caps = elements(tree, 'qemu:capabilities');
      expect(caps).toHaveLength(1);
      expect(elements(caps[0]!, 'qemu:del').map((d) => d.attrs.capability)).toEqual([CPU_PROPERTY_SCAN_CAPABILITY]);
    }
  });

  it("names each NIC as QEMU knows it: libvirt's alias, else the net<i> libvirt assigns", () => {
    expect(interfaceAliases(cloneOf(TEMPLATE))).toEqual(['net0']);
    const two = parseXml(
      `<domain><devices><interface type='bridge'><alias name='ua-uplink'/></interface><interface type='bridge'/></devices></domain>`,
    );
    expect(interfaceAliases(two)).toEqual(['ua-uplink', 'net1']);
    expect(interfaceAliases(parseXml('<domain/>'))).toEqual([]);
  });

  it('finds the writable file disks', () => {
    expect(writableFileDisks(parseXml(TEMPLATE))).toEqual([{ target: 'vda', path: '/var/lib/virtplug/instances/11111111-2222-4333-8444-555555555555/disk.qcow2', format: 'qcow2' }]);
  });
});

describe('shared RAM backend', () => {
  const plain = "<domain type='qemu'><name>x</name><memory unit='KiB'>262144</memory><devices/></domain>";

  it('turns a plain domain into a shared template (and is idempotent)', () => {
    const tree = parseXml(plain);
    makeSharedTemplate(tree, '/dev/shm/x.ram');
    makeSharedTemplate(tree, '/dev/shm/x.ram');
    const xml = serializeXml(tree);
    expect(tree.attrs['xmlns:qemu']).toBe('http://libvirt.org/schemas/domain/qemu/1.0');
    expect(readRamBackend(tree)).toEqual({ kind: 'file', path: '/dev/shm/x.ram', share: true });
    expect(xml.match(/-object/g)).toHaveLength(1);
    expect(xml).toContain('&quot;size&quot;:268435456');
    expect(xml.match(/<qemu:del capability='cpu-unavailable-features'\/>/g)).toHaveLength(1);
  });

  it('switches to anonymous RAM and adds/removes the QMP monitor, keeping foreign args', () => {
    const tree = parseXml(plain.replace('<devices/>', "<devices/><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-no-hpet'/></qemu:commandline>"));
    setRamBackend(tree, { kind: 'ram' });
    addQmpMonitor(tree, '/run/a,b/qmp.sock');
    let xml = serializeXml(tree);
    expect(xml).toContain('memory-backend-ram');
    expect(xml).toContain('path=/run/a,,b/qmp.sock');
    expect(xml).toContain("value='-no-hpet'");
    removeQmpMonitor(tree);
    xml = serializeXml(tree);
    expect(xml).not.toContain('vpqmp');
    expect(xml).toContain("value='-no-hpet'");
  });

  it('reads nothing from a domain without our backend', () => {
    expect(readRamBackend(parseXml(plain))).toBeNull();
  });
});

describe('volumes a clone cannot copy', () => {
  it('names writable block and network disks, not files, read-only disks or CD-ROMs', () => {
    const tree = parseXml(
      "<domain><devices><disk type='file' device='disk'><target dev='vda'/></disk>" +
        "<disk type='network' device='disk'><source protocol='iscsi'/><target dev='vdb'/></disk>" +
        "<disk type='block' device='disk'><readonly/><target dev='vdc'/></disk>" +
        "<disk type='file' device='cdrom'><target dev='hdc'/></disk></devices></domain>",
    );
    expect(sharedWritableDisks(tree)).toEqual(['vdb (network)']);
  });
});
