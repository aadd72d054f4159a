import { parseNic } from './nics.js';

describe('--nic', () => {
  it('describes a VIF on a VLAN segment', () => {
    expect(parseNic('bridge=vp-br,segment=vlan:100,cidr=10.88.100.0/24,ip=10.88.100.10/24,mac=52:54:00:AA:BB:CC,id=p1')).toEqual({
      id: 'p1',
      address: '52:54:00:aa:bb:cc',
      network: { id: 'vp-br-vlan100', label: 'vp-br', segmentType: 'vlan', segmentationId: 100, bridge: 'vp-br', cidr: '10.88.100.0/24' },
      fixedIps: ['10.88.100.10/24'],
    });
  });

  it('defaults to a flat segment with a random locally administered MAC', () => {
    const v = parseNic('bridge=br0');
    expect(v.network.segmentType).toBe('flat');
    expect(v.address).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('refuses unknown keys, a missing bridge, bad segments and bad MACs', () => {
    expect(() => parseNic('bridge=b,colour=red')).toThrow(/keys bridge, segment/);
    expect(() => parseNic('segment=vlan:1')).toThrow(/bridge=NAME/);
    expect(() => parseNic('bridge=b,segment=vlan')).toThrow(/vlan:<id>/);
    expect(() => parseNic('bridge=b,mac=zz')).toThrow(/a MAC like/);
  });
});
