import { InvalidArgumentError } from '@virtplug/core';
import { SATA_PORTS } from '../context.js';

/**
 * Nova mountpoints (`/dev/vdb`, `/dev/sdc`, `xvdd`) → SATA port: the letter's index, so /dev/sdb is port 1
 * (port 0 is the root disk). Undefined when the mountpoint names no disk letter: the first free port is used.
 */
export function portForMountpoint(mountpoint: string): number | undefined {
  const m = /^(?:\/dev\/)?(?:sd|vd|hd|xvd)([a-z]{1,2})$/.exec(mountpoint.trim());
  if (!m) return undefined;
  const letters = m[1]!;
  const index = letters.length === 1 ? letters.charCodeAt(0) - 97 : (letters.charCodeAt(0) - 96) * 26 + (letters.charCodeAt(1) - 97);
  if (index === 0) throw new InvalidArgumentError('mountpoint', mountpoint, 'a device after the root disk, e.g. /dev/sdb');
  if (index >= SATA_PORTS) throw new InvalidArgumentError('mountpoint', mountpoint, `a device from /dev/sdb to /dev/sdad (SATA ports 1-${SATA_PORTS - 1})`);
  return index;
}
