import { RecordingRunner } from '../testing/recording-runner.js';
import { OvsSegmentAdapter } from './ovs.js';
import { SegmentSelector } from './select.js';
import { VlanSegmentAdapter } from './vlan.js';
import { VxlanSegmentAdapter } from './vxlan.js';

describe('segment adapters', () => {
  it('ovs: veth pair, access port tag=<VLAN>, address on the inner end (argv only)', async () => {
    const runner = new RecordingRunner((c) => (c.file === 'ip' && c.args[0] === '-o' ? { exitCode: 1 } : {}));
    const ovs = new OvsSegmentAdapter(runner, { db: 'unix:/run/x/db.sock', bridge: 'br-io' });
    expect(await ovs.ensure({ type: 'vlan', id: 100 }, '10.88.100.1/24', '02:00:00:00:01:00')).toEqual({ iface: 'iov100' });
    expect(runner.commands()).toEqual(
      expect.arrayContaining([
        'ip link add iov100 type veth peer name iop100',
        'ovs-vsctl --db=unix:/run/x/db.sock --timeout=10 --may-exist add-port br-io iop100 tag=100 -- set Port iop100 tag=100',
        'ip link set dev iov100 address 02:00:00:00:01:00',
        'ip addr add 10.88.100.1/24 dev iov100',
      ]),
    );
  });

  it('ovs: the probe refuses a netdev bridge without userspace TSO, with the reason', async () => {
    const runner = new RecordingRunner((c) => {
      if (c.args.includes('datapath_type')) return { stdout: 'netdev\n' };
      if (c.args.includes('other_config:userspace-tso-enable')) return { exitCode: 1, stderr: 'no key' };
      return {};
    });
    const p = await new OvsSegmentAdapter(runner, { db: 'unix:/x', bridge: 'br-io' }).probe();
    expect(p).toMatchObject({ usable: false, reason: expect.stringMatching(/userspace-tso-enable=true/) });
  });

  it('vlan: the probe explains a kernel without 802.1Q', async () => {
    const runner = new RecordingRunner((c) => (c.args.includes('type') && c.args.includes('vlan') ? { exitCode: 2, stderr: 'Error: Unknown device type.\n' } : {}));
    const p = await new VlanSegmentAdapter(runner, 'trh', '/nonexistent/vlan/config').probe();
    expect(p).toMatchObject({ usable: false, reason: expect.stringMatching(/CONFIG_VLAN_8021Q.*segment_backend = ovs/) });
    expect(runner.commands()).toContain('ip link add link trh name iolprobe type vlan id 4094');
  });

  it('vxlan: a device per VNI with head-end replication to every remote', async () => {
    const runner = new RecordingRunner((c) => (c.file === 'ip' && c.args[0] === '-o' ? { exitCode: 1 } : {}));
    const vx = new VxlanSegmentAdapter(runner, { dev: 'ulh', local: '10.88.2.1', remotes: ['10.88.2.2', '10.88.2.3'], port: 4789 });
    expect(await vx.ensure({ type: 'vxlan', id: 300 }, '10.88.130.1/24', '02:00:00:00:03:00')).toEqual({ iface: 'iox300' });
    expect(runner.commands()).toEqual(
      expect.arrayContaining([
        'ip link add iox300 type vxlan id 300 local 10.88.2.1 dev ulh dstport 4789',
        'bridge fdb append 00:00:00:00:00:00 dev iox300 dst 10.88.2.2',
        'bridge fdb append 00:00:00:00:00:00 dev iox300 dst 10.88.2.3',
      ]),
    );
  });

  it('selection: auto prefers OVS for VLANs, falls back to 802.1Q, and explains when neither works', async () => {
    const ok = { probe: async () => ({ usable: true, reason: '' }) };
    const no = (reason: string) => ({ probe: async () => ({ usable: false, reason }) });
    const mk = (name: string, p: object) => ({ name, supports: () => true, ensure: async () => ({ iface: name }), remove: async () => {}, exists: async () => true, ...p }) as never;
    expect((await new SegmentSelector([mk('ovs', ok), mk('vlan', ok)], 'auto').select('vlan')).name).toBe('ovs');
    expect((await new SegmentSelector([mk('ovs', no('no bridge')), mk('vlan', ok)], 'auto').select('vlan')).name).toBe('vlan');
    await expect(new SegmentSelector([mk('ovs', no('no bridge')), mk('vlan', no('no 8021q'))], 'auto').select('vlan')).rejects.toMatchObject({
      code: 'invalid_state',
      message: expect.stringMatching(/ovs: no bridge; vlan: no 8021q/),
    });
    await expect(new SegmentSelector([mk('vxlan', ok)], 'vxlan').select('vlan')).rejects.toThrow(/serves no vlan segments/);
  });
});
