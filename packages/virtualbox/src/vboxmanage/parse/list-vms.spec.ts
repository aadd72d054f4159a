import { sample } from '../../../test/helpers/samples.js';
import { parseListVms } from './list-vms.js';

describe('list vms parser', () => {
  it('reads sample S1', () => {
    expect(parseListVms(sample('S1-list-vms.txt'))).toEqual([
      { name: 'ubuntu-18.04-amd64_1549746024485_35372', uuid: '6294f16b-4f05-4430-afb9-773bdb237aec', inaccessible: false },
    ]);
  });

  it('reads names with spaces (S1, second source)', () => {
    expect(parseListVms(sample('S1-list-vms-names-with-spaces.txt'))).toEqual([
      { name: 'UDA2 net boot', uuid: 'c0877216-a80b-4c75-9e5d-9956a646d06d', inaccessible: false },
      { name: 'ReactOS test', uuid: '77fb8dcb-82ae-4870-9e6b-e56f19377f6b', inaccessible: false },
    ]);
  });

  it('keeps nova-virtualbox test vectors: malformed lines are skipped, <inaccessible> is flagged', () => {
    expect(parseListVms('"fake_vm1" {fake_uuid1}\n"fake_vm2": {fake_uuid2}\n')).toEqual([{ name: 'fake_vm1', uuid: 'fake_uuid1', inaccessible: false }]);
    expect(parseListVms('"<inaccessible>" fake-vm-uuid')).toEqual([{ name: '<inaccessible>', uuid: 'fake-vm-uuid', inaccessible: true }]);
  });

  it('reads names holding quotes, braces and semicolons, and CRLF', () => {
    const text = '"a "quoted" {vm}; rm -rf /" {11111111-2222-3333-4444-555555555555}\r\n"<inaccessible>" {66666666-2222-3333-4444-555555555555}\r\n';
    expect(parseListVms(text)).toEqual([
      { name: 'a "quoted" {vm}; rm -rf /', uuid: '11111111-2222-3333-4444-555555555555', inaccessible: false },
      { name: '<inaccessible>', uuid: '66666666-2222-3333-4444-555555555555', inaccessible: true },
    ]);
  });
});
