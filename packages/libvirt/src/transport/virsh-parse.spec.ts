import { DomainState } from './port.js';
import { parseDominfo, parseDomstats, parseNodeinfo, parseSecretDefine, parseSecretList, parseUuidNameList, parseVersion } from './virsh-parse.js';

// Output captured from virsh 9.0.0 on the project machines (LC_ALL=C).
const DOMINFO = `Id:             2
Name:           vp-lv-exp1
UUID:           0feac370-c75b-47b3-8999-0d65841bef76
OS Type:        hvm
State:          running
CPU(s):         1
CPU time:       2.8s
Max memory:     262144 KiB
Used memory:    262144 KiB
Persistent:     yes
Autostart:      disable
Managed save:   no
Security model: none
Security DOI:   0
`;

describe('virsh output parsers', () => {
  it('dominfo', () => {
    expect(parseDominfo(DOMINFO)).toEqual({
      uuid: '0feac370-c75b-47b3-8999-0d65841bef76',
      name: 'vp-lv-exp1',
      state: DomainState.RUNNING,
      maxMemKb: 262144,
      memKb: 262144,
      vcpus: 1,
      cpuTimeNs: 2_800_000_000,
    });
    expect(parseDominfo(DOMINFO.replace('running', 'shut off')).state).toBe(DomainState.SHUTOFF);
    expect(() => parseDominfo('garbage')).toThrow(/no known State/);
  });

  it('nodeinfo', () => {
    const text = `CPU model:           x86_64\nCPU(s):              2\nCPU frequency:       2596 MHz\nCPU socket(s):       1\nCore(s) per socket:  2\nThread(s) per core:  1\nNUMA cell(s):        1\nMemory size:         5859532 KiB\n`;
    expect(parseNodeinfo(text)).toEqual({ model: 'x86_64', memoryKb: 5859532, cpus: 2, mhz: 2596, sockets: 1, cores: 2, threads: 1 });
  });

  it('version', () => {
    const text = 'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.22\n';
    expect(parseVersion(text)).toEqual({ libvirt: '9.0.0', hypervisorType: 'QEMU', hypervisorVersion: '7.2.22' });
  });

  it('list --uuid --name keeps names with spaces', () => {
    expect(parseUuidNameList('0feac370-c75b-47b3-8999-0d65841bef76 vp-lv-exp1\n176a2cba-ae63-4134-9d72-9af815b7b2ee a name with spaces\n\n')).toEqual([
      { uuid: '0feac370-c75b-47b3-8999-0d65841bef76', name: 'vp-lv-exp1' },
      { uuid: '176a2cba-ae63-4134-9d72-9af815b7b2ee', name: 'a name with spaces' },
    ]);
  });

  it('domstats', () => {
    expect(parseDomstats("Domain: 'vp-lv-exp1'\n  state.state=1\n  balloon.current=262144\n\n")).toEqual({ 'state.state': '1', 'balloon.current': '262144' });
  });

  it('secret-list and secret-define', () => {
    const list = ' UUID                                   Usage\n--------------------------------------------------------------\n 8007b6d8-5fa6-4673-8e1c-3ceda2d186ed   iscsi virtplug/abc/vol-1\n\n';
    expect(parseSecretList(list)).toEqual([{ uuid: '8007b6d8-5fa6-4673-8e1c-3ceda2d186ed', usage: 'virtplug/abc/vol-1' }]);
    expect(parseSecretDefine('Secret 8007b6d8-5fa6-4673-8e1c-3ceda2d186ed created\n\n')).toBe('8007b6d8-5fa6-4673-8e1c-3ceda2d186ed');
  });
});
