import { declareCapabilities, type CapabilityCell, type CapabilityDeclarations } from '@virtplug/core';

/**
 * The router's own claims, each backed by the live three-host lab test (test/iohyp.lab.spec.ts writes
 * docs/evidence/iohyp.json). Everything else is whatever the wrapped driver declares.
 */
export const IOHYP_CELLS: Record<string, CapabilityCell> = {
  'iohyp.route-volume': {
    status: 'complete',
    notes: 'io:enabled=1 instances: iSCSI (CHAP) or file backend -> IOhyp -> NBD export on the instance segment -> network disk; synchronous, undone on failure.',
  },
  'iohyp.segment.vlan': { status: 'complete', mode: 'ovs-netdev', notes: 'OVS userspace datapath access port per VLAN; kernel 802.1Q where the kernel has it.' },
  'iohyp.segment.vxlan': { status: 'complete', mode: 'kernel-vxlan', notes: 'VXLAN device per VNI with head-end replication.' },
};

export const IOHYP_CAPABILITIES: CapabilityDeclarations = declareCapabilities(IOHYP_CELLS);

/** The wrapped driver's table with the IOhyp rows laid over it. */
export function routerCapabilities(inner: CapabilityDeclarations): CapabilityDeclarations {
  return Object.freeze({ ...inner, ...IOHYP_CELLS });
}
