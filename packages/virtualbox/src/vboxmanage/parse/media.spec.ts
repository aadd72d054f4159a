import { sample } from '../../../test/helpers/samples.js';
import { parseMediaList, parseMediumInfo } from './media.js';

const MB = 1024 * 1024;

describe('list hdds / showmediuminfo parser', () => {
  it('reads sample S6: base and differencing child, Encryption key, locked read state', () => {
    const media = parseMediaList(sample('S6-list-hdds.txt'));
    expect(media).toHaveLength(2);
    expect(media[0]).toMatchObject({
      uuid: 'ebb6dca0-879f-480b-a50e-9efe330bd021',
      parentUuid: null,
      state: 'locked read',
      type: 'normal (base)',
      location: '/virtual/machines/ubuntu-18.04-amd64_1549746024485_35372/ubuntu-18.04-amd64-disk001.vmdk',
      format: 'VMDK',
      capacityBytes: 65536 * MB,
      encryption: 'disabled',
      iscsi: false,
    });
    expect(media[1]).toMatchObject({ parentUuid: 'ebb6dca0-879f-480b-a50e-9efe330bd021', state: 'created', type: 'normal (differencing)' });
  });

  it("reads showmediuminfo with nova-virtualbox's extra keys and multi-line values", () => {
    const text = [
      'UUID:           6917a94b-ecb0-4996-8ab8-5e4ef8f9539a',
      'Parent UUID:    base',
      'State:          created',
      'Type:           normal (base)',
      'Location:       /vms/a b/root.vdi',
      'Storage format: VDI',
      'Format variant: dynamic default',
      'Capacity:       8192 MBytes',
      'Size on disk:   1548 MBytes',
      'Encryption:     disabled',
      'In use by VMs:  vm one (UUID: 11111111-2222-3333-4444-555555555555)',
      'Child UUIDs:    aaaaaaaa-2222-3333-4444-555555555555',
      '                bbbbbbbb-2222-3333-4444-555555555555',
      '',
    ].join('\r\n');
    expect(parseMediumInfo(text)).toMatchObject({
      location: '/vms/a b/root.vdi',
      variant: 'dynamic default',
      capacityBytes: 8192 * MB,
      sizeOnDiskBytes: 1548 * MB,
      inUseBy: ['vm one (UUID: 11111111-2222-3333-4444-555555555555)'],
      childUuids: ['aaaaaaaa-2222-3333-4444-555555555555', 'bbbbbbbb-2222-3333-4444-555555555555'],
    });
  });

  it('recognises iSCSI media by their server|target|lun location', () => {
    const [m] = parseMediaList('UUID: 11111111-2222-3333-4444-555555555555\nLocation: 10.99.0.1:3260|iqn.2026-11.io.virtplug:v1|1\nStorage format: iSCSI\n');
    expect(m!.iscsi).toBe(true);
  });
});
