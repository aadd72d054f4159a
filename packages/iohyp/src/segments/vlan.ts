import { existsSync } from 'node:fs';
import type { ProbeResult, ProcessRunner } from '@virtplug/core';
import type { Segment, SegmentKind } from '../model.js';
import { runChecked } from '../util/run.js';
import { deleteLink, linkExists, setAddress } from './iface.js';
import type { SegmentAdapter } from './port.js';

/**
 * Kernel 802.1Q: `ip link add link <trunk> name iol<VLAN> type vlan id <VLAN>`. Needs CONFIG_VLAN_8021Q;
 * the probe says plainly when the kernel lacks it (as on the lab machines) so `auto` falls back to OVS.
 */
export class VlanSegmentAdapter implements SegmentAdapter {
  readonly name = 'vlan' as const;

  constructor(
    private readonly runner: ProcessRunner,
    private readonly trunk: string,
    /** Exists when 8021q is loaded; a parameter so tests can describe a host without it. */
    private readonly procVlan = '/proc/net/vlan/config',
  ) {}

  supports(kind: SegmentKind): boolean {
    return kind === 'vlan';
  }

  async probe(): Promise<ProbeResult> {
    if (!(await linkExists(this.runner, this.trunk))) {
      return { usable: false, reason: `trunk device ${this.trunk} does not exist; set [iohyp] vlan_trunk` };
    }
    if (existsSync(this.procVlan)) return { usable: true, reason: `8021q loaded; trunk ${this.trunk}` };
    // Creating one is the only reliable test: it also autoloads the module where that is possible.
    const probe = 'iolprobe';
    const r = await this.runner.run('ip', ['link', 'add', 'link', this.trunk, 'name', probe, 'type', 'vlan', 'id', '4094'], { timeoutMs: 10_000 });
    if (r.exitCode === 0) {
      await deleteLink(this.runner, probe);
      return { usable: true, reason: `802.1Q works on trunk ${this.trunk}` };
    }
    const why = r.stderr.trim();
    return {
      usable: false,
      reason: /Unknown device type/i.test(why)
        ? `the kernel has no 802.1Q support (CONFIG_VLAN_8021Q not set: "${why}"); use segment_backend = ovs (userspace datapath) or vxlan`
        : `cannot create a VLAN device on ${this.trunk}: ${why}`,
    };
  }

  iface(segment: Segment): string {
    return `iol${segment.id}`;
  }

  async ensure(segment: Segment, address: string, mac: string): Promise<{ iface: string }> {
    const iface = this.iface(segment);
    if (!(await linkExists(this.runner, iface))) {
      await runChecked(this.runner, 'ip', ['link', 'add', 'link', this.trunk, 'name', iface, 'type', 'vlan', 'id', String(segment.id)], {
        what: `create VLAN ${segment.id} on ${this.trunk}`,
      });
    }
    await setAddress(this.runner, iface, address, mac);
    return { iface };
  }

  async remove(segment: Segment): Promise<void> {
    await deleteLink(this.runner, this.iface(segment));
  }

  async exists(segment: Segment): Promise<boolean> {
    return linkExists(this.runner, this.iface(segment));
  }
}
