import { sample } from '../../../test/helpers/samples.js';
import { mrNumber, parseMachineReadable } from './machine-readable.js';
import { parseVmInfo } from './vm-info.js';

const S2 = sample('S2-showvminfo-machinereadable.txt');

describe('showvminfo --machinereadable parser', () => {
  it('keeps nova-virtualbox test vectors', () => {
    expect(parseMachineReadable('"a"="b"')).toEqual({ a: 'b' });
    expect(parseMachineReadable('\n"a"="b"\n')).toEqual({ a: 'b' });
    expect(parseMachineReadable('"a" = "b"')).toEqual({ a: 'b' });
    expect(parseMachineReadable('"none"="none"')).toEqual({ none: null });
  });

  it('reads every line of sample S2 (quoted keys, bare numbers, bracketed keys)', () => {
    const raw = parseMachineReadable(S2);
    const lines = S2.split('\n').filter((l) => l !== '');
    expect(Object.keys(raw)).toHaveLength(lines.length);
    expect(raw.name).toBe('ubuntu-18.04-amd64_1549746024485_35372');
    expect(raw.ostype).toBe('Ubuntu (64-bit)');
    expect(raw.memory).toBe('1024');
    expect(mrNumber(raw, 'memory')).toBe(1024);
    expect(mrNumber(raw, 'vrdeport')).toBe(-1);
    expect(raw['IDE Controller-0-0']).toBeNull();
    expect(raw['SATA Controller-ImageUUID-0-0']).toBe('1c182745-4b09-41a1-a147-d3ced46f72f6');
    expect(raw['vrdeproperty[TCP/Ports]']).toBe('5947');
    expect(raw.teleporteraddress).toBe('');
    expect(raw.CurrentSnapshotNode).toBe('SnapshotName');
  });

  it('gives the typed view of S2', () => {
    const info = parseVmInfo(S2);
    expect(info).toMatchObject({
      name: 'ubuntu-18.04-amd64_1549746024485_35372',
      uuid: '6294f16b-4f05-4430-afb9-773bdb237aec',
      inaccessible: false,
      state: 'poweroff',
      memoryMb: 1024,
      cpus: 1,
      acpi: true,
      controllers: ['IDE Controller', 'SATA Controller'],
      nics: [{ index: 1, type: 'nat', mac: '080027E5FA8F' }],
      vrde: { enabled: true, activePort: -1, ports: '5947', address: '127.0.0.1', properties: { 'TCP/Ports': '5947', 'TCP/Address': '127.0.0.1' } },
      uart1: { enabled: false },
      snapshots: [{ name: 'base', uuid: '085cbbec-70cd-4864-9208-5d938dcabb71' }],
    });
    expect(info.attachments.filter((a) => a.location !== null)).toEqual([
      {
        controller: 'SATA Controller',
        port: 0,
        device: 0,
        location: '/virtual/machines/ubuntu-18.04-amd64_1549746024485_35372/Snapshots/{1c182745-4b09-41a1-a147-d3ced46f72f6}.vmdk',
        imageUuid: '1c182745-4b09-41a1-a147-d3ced46f72f6',
      },
    ]);
    expect(info.attachments).toHaveLength(5);
  });

  it('reads the same from CRLF output and ignores VirtualBox 7 stray lines', () => {
    const crlf = S2.replace(/\n/g, '\r\n');
    expect(parseMachineReadable(crlf)).toEqual(parseMachineReadable(S2));
    const v7 = S2.replace('hardwareuuid=', 'Encryption:     disabled\nhardwareuuid=');
    expect(parseMachineReadable(v7)).toEqual(parseMachineReadable(S2));
  });

  it('unescapes Windows paths and quotes, and matches VMState exactly (not VMStateFile)', () => {
    const text =
      'name="my \\"quoted\\" vm"\nCfgFile="F:\\\\VirtualBox VMs\\\\x\\\\x.vbox"\nVMState="saved"\nVMStateFile="F:\\\\VirtualBox VMs\\\\x\\\\Snapshots\\\\a.sav"\n' +
      'description="line1\\nline2"\nvrdeproperty[VNCPassword]="p=w"\n';
    const raw = parseMachineReadable(text);
    expect(raw.name).toBe('my "quoted" vm');
    expect(raw.CfgFile).toBe('F:\\VirtualBox VMs\\x\\x.vbox');
    expect(raw.description).toBe('line1\nline2');
    expect(raw['vrdeproperty[VNCPassword]']).toBe('p=w');
    expect(parseVmInfo(text).state).toBe('saved');
  });

  it('recognises an inaccessible machine', () => {
    const info = parseVmInfo('name="<inaccessible>"\nUUID="6294f16b-4f05-4430-afb9-773bdb237aec"\n');
    expect(info).toMatchObject({ inaccessible: true, state: 'inaccessible', uuid: '6294f16b-4f05-4430-afb9-773bdb237aec' });
  });
});
