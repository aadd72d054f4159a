import { sample } from '../../../test/helpers/samples.js';
import { parseCloneFormat, parseCreatedUuid, parseCreateVm } from './created.js';
import { parseExtraDataValue } from './extradata.js';
import { parseVersion } from './version.js';

describe('creation output parsers', () => {
  it('reads createvm (S8)', () => {
    expect(parseCreateVm(sample('S8-createvm-startvm.txt'))).toEqual({
      uuid: 'df120c2a-bac3-4dc8-b7e1-dd77087e86ba',
      settingsFile: '/Users/uptimeDBA/VirtualBox VMs/CockroachDB/CockroachDB.vbox',
    });
  });

  it('reads clonemedium and createhd (S8); progress on stderr carries no UUID', () => {
    expect(parseCreatedUuid(sample('S8-clonemedium.stdout.txt'))).toBe('47653a3f-bda0-41a0-8eb2-6ae1429665e1');
    expect(parseCloneFormat(sample('S8-clonemedium.stdout.txt'))).toBe('VMDK');
    expect(parseCreatedUuid(sample('S8-clonemedium.stderr.txt'))).toBeUndefined();
    expect(parseCreatedUuid(sample('S8-createhd.stdout.txt'))).toBe('6917a94b-ecb0-4996-8ab8-5e4ef8f9539a');
    expect(parseCreatedUuid('Snapshot taken. UUID: 085CBBEC-70cd-4864-9208-5d938dcabb71\n')).toBe('085cbbec-70cd-4864-9208-5d938dcabb71');
  });

  it('reads getextradata', () => {
    expect(parseExtraDataValue('Value: {"a":1}\n')).toBe('{"a":1}');
    expect(parseExtraDataValue('No value set!\n')).toBeUndefined();
  });
});

describe('--version parser', () => {
  it.each([
    ['7.0.20r163906\n', '7.0.20', 163906],
    ['5.2.44_Ubuntur139111\n', '5.2.44', 139111],
    ['6.1.50_OSEr161033\r\n', '6.1.50', 161033],
    ['4.3.36_Debianr105129\n', '4.3.36', 105129],
    ['6.1.16_MacPortsr140961\n', '6.1.16', 140961],
  ])('reads %j', (text, version, revision) => {
    expect(parseVersion(text)).toMatchObject({ version, revision, warnings: [] });
  });

  it('skips WARNING lines and their continuation, keeping them as warnings', () => {
    const v = parseVersion(
      'WARNING: The vboxdrv kernel module is not loaded. Either there is no module\n         available for the current kernel.\n\n5.2.30r130521\n',
    );
    expect(v).toMatchObject({ raw: '5.2.30r130521', version: '5.2.30', major: 5, minor: 2, build: 30 });
    expect(v!.warnings[0]).toMatch(/^The vboxdrv kernel module is not loaded.*available for the current kernel\.$/);
  });

  it('returns undefined on empty output (VBoxManage on Windows sometimes prints nothing)', () => {
    expect(parseVersion('')).toBeUndefined();
    expect(parseVersion('WARNING: something\n')).toBeUndefined();
  });
});
