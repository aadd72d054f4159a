import type { ProbeResult, ProcessRunner } from '@virtplug/core';
import type { Segment, SegmentKind } from '../model.js';
import { runChecked } from '../util/run.js';
import { deleteLink, linkExists, setAddress } from './iface.js';
import type { SegmentAdapter } from './port.js';

export interface OvsOptions {
  db: string;
  bridge: string;
}

/**
 * Open vSwitch, as ORBIT's `create_ovs_io_port`: a veth pair per VLAN, the outer end an access port
 * `tag=<VLAN>` on the bridge that carries the tenants' 802.1Q trunk, the inner end holding the IOhyp's
 * address. Works with the userspace `netdev` datapath, so no kernel module is needed.
 */
export class OvsSegmentAdapter implements SegmentAdapter {
  readonly name = 'ovs' as const;

  constructor(
    private readonly runner: ProcessRunner,
    private readonly opts: OvsOptions,
  ) {}

  supports(kind: SegmentKind): boolean {
    return kind === 'vlan';
  }

  private vsctl(args: string[], what: string) {
    return runChecked(this.runner, 'ovs-vsctl', [`--db=${this.opts.db}`, '--timeout=10', ...args], { what });
  }

  async probe(): Promise<ProbeResult> {
    const r = await this.runner.run('ovs-vsctl', [`--db=${this.opts.db}`, '--timeout=5', 'br-exists', this.opts.bridge], { timeoutMs: 10_000 });
    if (r.spawnError) return { usable: false, reason: 'ovs-vsctl is not installed (apt-get install openvswitch-switch)' };
    if (r.exitCode === 2) return { usable: false, reason: `OVS bridge ${this.opts.bridge} does not exist on ${this.opts.db}; create it or set [iohyp] ovs_bridge` };
    if (r.exitCode !== 0) return { usable: false, reason: `ovsdb at ${this.opts.db} did not answer: ${r.stderr.trim()}` };
    const dp = (await this.vsctl(['get', 'Bridge', this.opts.bridge, 'datapath_type'], 'read the datapath type')).stdout.trim().replace(/"/g, '');
    if (dp === 'netdev') {
      // Learned in the lab: without userspace TSO, TCP from veth ports (partial checksums) stalls in the
      // netdev datapath while ARP and ping pass; every NBD connection would then time out.
      const tso = await this.runner.run('ovs-vsctl', [`--db=${this.opts.db}`, 'get', 'Open_vSwitch', '.', 'other_config:userspace-tso-enable'], { timeoutMs: 10_000 });
      if (tso.stdout.replace(/"/g, '').trim() !== 'true') {
        return {
          usable: false,
          reason: `bridge ${this.opts.bridge} uses the netdev datapath without other_config:userspace-tso-enable=true; TCP over veth ports would stall (set it and restart ovs-vswitchd)`,
        };
      }
    }
    const version = (await this.runner.run('ovs-vsctl', ['--version'], { timeoutMs: 5000 })).stdout.split('\n')[0] ?? '';
    return { usable: true, reason: `OVS bridge ${this.opts.bridge} (datapath ${dp || 'system'})`, backendVersion: version.trim() };
  }

  names(segment: Segment) {
    return { inner: `iov${segment.id}`, outer: `iop${segment.id}` };
  }

  async ensure(segment: Segment, address: string, mac: string): Promise<{ iface: string }> {
    const { inner, outer } = this.names(segment);
    if (!(await linkExists(this.runner, inner)) || !(await linkExists(this.runner, outer))) {
      await deleteLink(this.runner, inner);
      await runChecked(this.runner, 'ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer], { what: `create veth ${inner}/${outer}` });
    }
    await runChecked(this.runner, 'ip', ['link', 'set', 'dev', outer, 'up'], { what: `bring ${outer} up` });
    const tag = String(segment.id);
    await this.vsctl(['--may-exist', 'add-port', this.opts.bridge, outer, `tag=${tag}`, '--', 'set', 'Port', outer, `tag=${tag}`], `add ${outer} to ${this.opts.bridge} with VLAN tag ${tag}`);
    await setAddress(this.runner, inner, address, mac);
    return { iface: inner };
  }

  async remove(segment: Segment): Promise<void> {
    const { inner, outer } = this.names(segment);
    await this.vsctl(['--if-exists', 'del-port', this.opts.bridge, outer], `remove ${outer} from ${this.opts.bridge}`);
    await deleteLink(this.runner, inner);
  }

  async exists(segment: Segment): Promise<boolean> {
    const { inner } = this.names(segment);
    if (!(await linkExists(this.runner, inner))) return false;
    const r = await this.runner.run('ovs-vsctl', [`--db=${this.opts.db}`, '--timeout=5', 'port-to-br', this.names(segment).outer], { timeoutMs: 10_000 });
    return r.exitCode === 0 && r.stdout.trim() === this.opts.bridge;
  }
}
