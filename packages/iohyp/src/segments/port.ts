import type { ProbeResult } from '@virtplug/core';
import type { Segment, SegmentKind } from '../model.js';

/**
 * How the IOhyp joins a tenant segment: one interface per segment, carrying the IOhyp's address on it.
 * ORBIT's `create_ovs_io_port` is the `ovs` adapter; `vlan` and `vxlan` are the other two ways.
 */
export interface SegmentAdapter {
  readonly name: 'ovs' | 'vlan' | 'vxlan';
  supports(kind: SegmentKind): boolean;
  /** Whether it can work on this host, and if not, why and what to do. */
  probe(): Promise<ProbeResult>;
  /**
   * Creates the port, or repairs it (missing interface, other address); returns its interface. `mac` is
   * stable per agent and segment: a re-created port must keep its MAC, or every initiator's neighbour
   * cache keeps sending to the old one until it expires (~30 s of stalled connects, seen in the lab).
   */
  ensure(segment: Segment, address: string, mac: string): Promise<{ iface: string }>;
  /** Removes the port; a port that is already gone is not an error. */
  remove(segment: Segment): Promise<void>;
  exists(segment: Segment): Promise<boolean>;
}
