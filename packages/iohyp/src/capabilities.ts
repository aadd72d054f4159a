import { FEATURES, declareCapabilities, type CapabilityCell, type CapabilityDeclarations } from '@virtplug/core';

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

/**
 * The module's static table (the matrix column): the router's own rows, and `unknown` for the rest,
 * which are whatever the wrapped driver ([iohyp] wrap) declares. A loaded router reports the real
 * merged table (routerCapabilities).
 */
export const IOHYP_CAPABILITIES: CapabilityDeclarations = declareCapabilities({
  ...Object.fromEntries(
    FEATURES.filter((f) => !f.id.startsWith('iohyp.')).map((f) => [f.id, { status: 'unknown' as const, notes: 'Delegated to the wrapped driver ([iohyp] wrap); see its column.' }]),
  ),
  ...IOHYP_CELLS,
});

/** The wrapped driver's table with the IOhyp rows laid over it. */
export function routerCapabilities(inner: CapabilityDeclarations): CapabilityDeclarations {
  return Object.freeze({ ...inner, ...IOHYP_CELLS });
}
