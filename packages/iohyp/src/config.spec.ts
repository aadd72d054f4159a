import { fromInline } from '@virtplug/core';
import { iohypAddress, exportAllowList, selectVif } from './addressing.js';
import { readIoHypSection, routerSettings } from './config.js';
import { rankAgents } from './placement.js';
import { vlanNic } from './testing/fixtures.js';

const settingsOf = (iohyp: Record<string, unknown>) => routerSettings('<inline>', readIoHypSection(fromInline({ iohyp })), '/var/lib/virtplug');

describe('[iohyp] config and addressing', () => {
  it('parses agents, addresses and initiators, and names the bad entry', () => {
    const s = settingsOf({ agents: 'hyp1=http://10.88.0.1:8686, hyp2=http://10.88.0.2:8686/', addresses: 'hyp1@vlan:100=10.88.100.1/24', initiator_addresses: 'vlan:100=10.88.100.2' });
    expect(s.agents).toEqual([{ name: 'hyp1', url: 'http://10.88.0.1:8686' }, { name: 'hyp2', url: 'http://10.88.0.2:8686' }]);
    expect(s.stateDir).toBe('/var/lib/virtplug/iohyp');
    expect(s.addresses.get('hyp1@vlan:100')).toBe('10.88.100.1/24');
    expect(() => settingsOf({ agents: 'hyp1=ftp://x' })).toThrow(/\[iohyp\] agents = "hyp1=ftp:\/\/x" is invalid/);
    expect(() => settingsOf({ addresses: 'hyp1@vlan:100=10.88.100.1' })).toThrow(/AGENT@TYPE:ID=IP\/PREFIX/);
    expect(() => settingsOf({ segment_backend: 'gre' })).toThrow(/one of auto, ovs, vlan, vxlan/);
  });

  it('derives IOhyp addresses from the network cidr per agent, or takes the configured one', () => {
    const s = settingsOf({ agents: 'a=http://h:1,b=http://h:2', addresses: 'b@vlan:7=192.168.7.9/24' });
    expect(iohypAddress(s, 'a', { type: 'vlan', id: 100 }, '10.88.100.0/24')).toBe('10.88.100.254/24');
    expect(iohypAddress(s, 'b', { type: 'vlan', id: 100 }, '10.88.100.0/24')).toBe('10.88.100.253/24');
    expect(iohypAddress(s, 'b', { type: 'vlan', id: 7 }, undefined)).toBe('192.168.7.9/24');
    expect(() => iohypAddress(s, 'a', { type: 'vlan', id: 9 }, undefined)).toThrow(/set \[iohyp\] addresses/);
  });

  it('builds the ACL from the guest and the initiator, or none when disabled', () => {
    const s = settingsOf({ initiator_addresses: 'vlan:100=10.88.100.2' });
    expect(exportAllowList(s, { type: 'vlan', id: 100 }, '10.88.100.10')).toEqual(['10.88.100.10', '10.88.100.2']);
    expect(exportAllowList(settingsOf({ export_acl: 'false' }), { type: 'vlan', id: 100 }, '10.88.100.10')).toBeNull();
    const { segment, guestIp } = selectVif(vlanNic(200, '10.88.200.7/24'), 'vm');
    expect([segment, guestIp]).toEqual([{ type: 'vlan', id: 200 }, '10.88.200.7']);
  });

  it('ranks agents deterministically, moving only the instances of a removed agent', () => {
    const agents = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
    const uuids = Array.from({ length: 200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const before = uuids.map((u) => rankAgents(u, agents)[0]!.name);
    expect(uuids.map((u) => rankAgents(u, [...agents].reverse())[0]!.name)).toEqual(before);
    const after = uuids.map((u) => rankAgents(u, agents.filter((a) => a.name !== 'c'))[0]!.name);
    uuids.forEach((_, i) => {
      if (before[i] !== 'c') expect(after[i]).toBe(before[i]);
    });
    expect(new Set(before).size).toBe(4);
  });
});
