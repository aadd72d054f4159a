import { declareCapabilities, type CapabilityDeclarations } from '@virtplug/core';
import type { VirtualBoxSection } from './config.js';
import { protocolForModule } from './vrde/extpack.js';

const VRDE_NOTE = 'VRDE: needs remote_display = true; one protocol per host, chosen by vrde_module (VNC pack or the Oracle pack for RDP).';

/**
 * What the VirtualBox driver does (seed 004's column, plus the serial log and rescue VBoxManage allows).
 * Static: the matrix reads it without VirtualBox. Cells are backed by the contract run against the
 * replay harness (verified-replay) and against a real VBoxManage when one is installed (verified-live).
 */
export const VIRTUALBOX_CAPABILITIES: CapabilityDeclarations = declareCapabilities({
  'operation.get-guest-info': 'complete',
  'operation.get-host-info': { status: 'complete', notes: 'list hostinfo; vCPUs used summed over running machines.' },
  'operation.launch': 'complete',
  'operation.terminate': { status: 'complete', notes: 'Volumes are detached before unregistervm --delete, so their data survives.' },
  'operation.reboot': { status: 'complete', notes: 'SOFT: ACPI power button up to wait_soft_reboot_seconds, then reset. HARD: controlvm reset.' },
  'operation.pause': 'complete',
  'operation.unpause': 'complete',
  'operation.suspend': { status: 'complete', notes: 'controlvm savestate.' },
  'operation.resume': 'complete',
  'operation.restore': 'complete',
  'operation.resize': { status: 'complete', notes: 'Same host: memory, vCPUs and root disk growth; the instance restarts.' },
  'operation.snapshot': { status: 'complete', notes: 'snapshot take --live, clonemedium to a standalone VDI, snapshot delete.' },
  'operation.rescue': { status: 'complete', notes: 'Boots a disk made from the rescue image (default: the instance image) with the root disk attached second.' },
  'operation.attach-volume': { status: 'complete', notes: 'SATA hot-plug of iSCSI LUNs (built-in initiator) and VDI/VMDK/VHD/QCOW2 files.' },
  'operation.detach-volume': 'complete',
  'storage.block': 'complete',
  'storage.block.backend.iscsi': 'complete',
  'storage.block.backend.iscsi.auth.chap': 'complete',
  'storage.image': { status: 'complete', notes: 'VDI, VMDK, VHD, QCOW2; raw images through convertfromraw.' },
  'networking.topology.flat': {
    status: 'partial',
    notes: 'VIFs become bridged NICs (NAT without a bridge) with their MACs at spawn; no interface hot-plug.',
  },
  'console.vnc': { status: 'complete', notes: VRDE_NOTE },
  'console.rdp': { status: 'complete', notes: `${VRDE_NOTE} [rdp] security options apply.` },
  'console.serial.log': { status: 'complete', notes: 'UART1 to a file (--uartmode1 file).' },
});

/**
 * What one configured driver can do: VRDE serves one protocol, so with remote_display off neither
 * console is available, and otherwise only the vrde_module's one. Those calls throw
 * UnsupportedOperationError, as declared.
 */
export function capabilitiesFor(config: Pick<VirtualBoxSection, 'remote_display' | 'vrde_module'>): CapabilityDeclarations {
  const cells: Record<string, (typeof VIRTUALBOX_CAPABILITIES)[string]> = { ...VIRTUALBOX_CAPABILITIES };
  const active = config.remote_display ? protocolForModule(config.vrde_module) : undefined;
  const off = (why: string) => ({ status: 'missing' as const, notes: why });
  if (active !== 'vnc') cells['console.vnc'] = off(config.remote_display ? `vrde_module ${JSON.stringify(config.vrde_module)} serves RDP.` : 'remote_display is off.');
  if (active !== 'rdp') cells['console.rdp'] = off(config.remote_display ? `vrde_module ${JSON.stringify(config.vrde_module)} serves VNC.` : 'remote_display is off.');
  return Object.freeze(cells);
}
