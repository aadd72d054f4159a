import { InvalidStateError, type ProbeResult } from '@virtplug/core';
import type { SegmentKind } from '../model.js';
import type { SegmentAdapter } from './port.js';

export type SegmentBackendChoice = 'auto' | 'ovs' | 'vlan' | 'vxlan';

/** Which adapters may serve each segment type, in order of preference, per `[iohyp] segment_backend`. */
const CANDIDATES: Record<SegmentBackendChoice, Record<SegmentKind, Array<SegmentAdapter['name']>>> = {
  auto: { vlan: ['ovs', 'vlan'], vxlan: ['vxlan'] },
  ovs: { vlan: ['ovs'], vxlan: ['vxlan'] },
  vlan: { vlan: ['vlan'], vxlan: ['vxlan'] },
  vxlan: { vlan: [], vxlan: ['vxlan'] },
};

/**
 * Picks the adapter for a segment type by probe, caching the answers. A failed probe is retried after
 * RETRY_MS, so fixing the host does not need an agent restart, yet a status poll does not re-run
 * `ip link add` probes every time.
 */
const RETRY_MS = 30_000;

export class SegmentSelector {
  private readonly probes = new Map<string, ProbeResult & { at: number }>();

  constructor(
    private readonly adapters: readonly SegmentAdapter[],
    private readonly choice: SegmentBackendChoice,
  ) {}

  byName(name: string): SegmentAdapter | undefined {
    return this.adapters.find((a) => a.name === name);
  }

  async probeAll(): Promise<Array<{ name: string; usable: boolean; reason: string }>> {
    const out = [];
    for (const a of this.adapters) out.push({ name: a.name, ...(await this.probe(a)) });
    return out;
  }

  async select(kind: SegmentKind): Promise<SegmentAdapter> {
    const names = CANDIDATES[this.choice][kind];
    const reasons: string[] = [];
    for (const name of names) {
      const adapter = this.byName(name);
      if (!adapter) continue;
      const p = await this.probe(adapter);
      if (p.usable) return adapter;
      reasons.push(`${name}: ${p.reason}`);
    }
    throw new InvalidStateError(
      names.length === 0
        ? `This IOhyp serves no ${kind} segments with segment_backend = ${this.choice}; use auto, ovs or vlan.`
        : `No usable segment backend for ${kind} segments here (${reasons.join('; ')}).`,
      { segmentType: kind, segmentBackend: this.choice, reasons },
    );
  }

  private async probe(adapter: SegmentAdapter): Promise<ProbeResult> {
    const cached = this.probes.get(adapter.name);
    if (cached && (cached.usable || Date.now() - cached.at < RETRY_MS)) {
      const { at: _at, ...result } = cached;
      return result;
    }
    const result: ProbeResult = await adapter.probe().catch((e: unknown) => ({ usable: false, reason: (e as Error).message }));
    this.probes.set(adapter.name, { ...result, at: Date.now() });
    return result;
  }
}
