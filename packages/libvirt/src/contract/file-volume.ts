import { randomBytes } from 'node:crypto';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceRef, VolumeFixture } from '@virtplug/core';
import type { LibvirtDriver } from '../driver.js';
import { verifyGuestWrite } from './guest.js';

/** A sparse raw file of `bytes` in `dir`. */
export function rawFile(dir: string, name: string, bytes = 16 << 20): string {
  const path = join(dir, name);
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

/** A raw file attached as `<disk type='file'>`; the guest's writes must land in it. */
export function fileVolume(driver: () => LibvirtDriver, dir: string): () => Promise<VolumeFixture> {
  return async () => {
    const volumeId = `vol-file-${randomBytes(3).toString('hex')}`;
    const path = rawFile(dir, `${volumeId}.raw`);
    return {
      connectionInfo: { driverVolumeType: 'file', volumeId, data: { path, format: 'raw' } },
      mountpoint: '/dev/vdb',
      verify: (i: InstanceRef) => verifyGuestWrite(driver(), i, volumeId, path),
      cleanup: async () => rmSync(path, { force: true }),
    };
  };
}
