import type { CapabilityCell } from '@virtplug/core';

/**
 * The `vms.*` cells for the libvirt driver's declarations. `complete` claims are backed by the
 * integration suite in test/vms (evidence in docs/evidence/libvirt-vms.json). Copy-on-write memory
 * exists only in shared mode; copy mode loads a full RAM image into every clone.
 */
export function vmsCapabilities(): Record<string, CapabilityCell> {
  const both = 'shared, copy';
  return {
    'vms.bless': { status: 'complete', mode: both, notes: 'Source paused only for device state + RAM/disk copies; always resumed (guard process if killed).' },
    'vms.launch': { status: 'complete', mode: both, notes: 'Per-clone save-image header (new name/UUID/MAC) fed through a FIFO to virDomainRestore over the open connection; each disk a copy of an empty qcow2 overlay made at bless.' },
    'vms.launch.params': { status: 'complete', mode: both, notes: 'Guest agent params op runs /etc/virtplug/clone.d hooks (JSON + VMS_<key>); > 12 KiB refused.' },
    'vms.launch.target': { status: 'complete', mode: both, notes: 'Gridcentric memory string -> memtune soft limit (host-side, not guest-visible).' },
    'vms.list': { status: 'complete', mode: both },
    'vms.discard': { status: 'complete', mode: both },
    'vms.migrate': { status: 'complete', mode: both, notes: 'virsh migrate --live over qemu+tcp with shared storage; shared-RAM domains arrive with anonymous RAM.' },
    'vms.cow-memory': { status: 'complete', mode: 'shared', notes: 'Clones map the blessed RAM file MAP_PRIVATE (x-ignore-shared); copy mode has no sharing.' },
  };
}
