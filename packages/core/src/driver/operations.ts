import type { FeatureId } from '../capabilities/catalogue.js';
import type { ComputeOperation } from './compute-driver.js';

/** Which driver operations implement each Nova feature (Nova's feature → method mapping). */
export const FEATURE_OPERATIONS: Readonly<Record<FeatureId, readonly ComputeOperation[]>> = Object.freeze({
  'operation.attach-volume': ['attachVolume'],
  'operation.detach-volume': ['detachVolume'],
  'operation.get-guest-info': ['getInfo'],
  'operation.get-host-info': ['getHostInfo', 'getAvailableResource'],
  'operation.launch': ['spawn'],
  'operation.pause': ['pause'],
  'operation.unpause': ['unpause'],
  'operation.reboot': ['reboot'],
  'operation.rescue': ['rescue', 'unrescue'],
  'operation.resize': ['resize'],
  'operation.restore': ['powerOn'],
  'operation.set-admin-password': ['setAdminPassword'],
  'operation.snapshot': ['snapshot'],
  'operation.suspend': ['suspend'],
  'operation.resume': ['resume'],
  'operation.swap-volume': ['swapVolume'],
  'operation.terminate': ['destroy'],
  'console.vnc': ['getVncConsole'],
  'console.rdp': ['getRdpConsole'],
  'console.spice': ['getSpiceConsole'],
  'console.serial.log': ['getConsoleOutput'],
});
