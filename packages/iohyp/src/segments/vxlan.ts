import type { ProbeResult, ProcessRunner } from '@virtplug/core';
import type { Segment, SegmentKind } from '../model.js';
import { runChecked } from '../util/run.js';
import { deleteLink, linkExists, setAddress } from './iface.js';
import type { SegmentAdapter } from './port.js';

export interface VxlanOptions {
  dev: string | null;
  local: string | null;
  remotes: string[];
  port: number;
}

/**
 * VXLAN, VNI = segmentation id: the extension ORBIT promised. A kernel VXLAN device per VNI over the
 * underlay, with head-end replication to the compute hosts' VTEPs (no multicast needed).
 */
export class VxlanSegmentAdapter implements SegmentAdapter {
  readonly name = 'vxlan' as const;

  constructor(
    private readonly runner: ProcessRunner,
    private readonly opts: VxlanOptions,
  ) {}

  supports(kind: SegmentKind): boolean {
    return kind === 'vxlan';
  }

  async probe(): Promise<ProbeResult> {
    if (!this.opts.dev || !this.opts.local) return { usable: false, reason: 'set [iohyp] vxlan_dev and vxlan_local (the underlay)' };
    if (!(await linkExists(this.runner, this.opts.dev))) return { usable: false, reason: `underlay device ${this.opts.dev} does not exist` };
    if (this.opts.remotes.length === 0) return { usable: false, reason: 'set [iohyp] vxlan_remotes (the compute hosts\' VTEP addresses)' };
    const probe = 'ioxprobe';
    const r = await this.runner.run('ip', ['link', 'add', probe, 'type', 'vxlan', 'id', '16777215', 'dstport', '0', 'dev', this.opts.dev], { timeoutMs: 10_000 });
    if (r.exitCode !== 0) return { usable: false, reason: `the kernel refused a VXLAN device: ${r.stderr.trim()}` };
    await deleteLink(this.runner, probe);
    return { usable: true, reason: `VXLAN over ${this.opts.dev} (${this.opts.local} -> ${this.opts.remotes.join(', ')})` };
  }

  iface(segment: Segment): string {
    return `iox${segment.id}`;
  }

  async ensure(segment: Segment, address: string, mac: string): Promise<{ iface: string }> {
    const iface = this.iface(segment);
    if (!this.opts.dev || !this.opts.local) throw new Error('vxlan adapter used without vxlan_dev/vxlan_local; probe first');
    if (!(await linkExists(this.runner, iface))) {
      await runChecked(
        this.runner,
        'ip',
        ['link', 'add', iface, 'type', 'vxlan', 'id', String(segment.id), 'local', this.opts.local, 'dev', this.opts.dev, 'dstport', String(this.opts.port)],
        { what: `create VXLAN ${segment.id}` },
      );
      for (const remote of this.opts.remotes) {
        await runChecked(this.runner, 'bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', iface, 'dst', remote], {
          what: `flood VNI ${segment.id} to ${remote}`,
        });
      }
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
