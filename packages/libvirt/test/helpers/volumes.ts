import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { InstanceRef, VolumeFixture } from '@virtplug/core';
import type { LibvirtDriver } from '../../src/driver.js';
import { verifyGuestWrite } from '../../src/contract/guest.js';
import { rawFile } from '../../src/contract/file-volume.js';
export { fileVolume } from '../../src/contract/file-volume.js';
import { freePort, TgtDaemon } from './tgt.js';

/** qemu-nbd serving a raw file on 127.0.0.1 and a free port, attached through QEMU's NBD client. */
export function nbdVolume(driver: () => LibvirtDriver, dir: string): () => Promise<VolumeFixture> {
  return async () => {
    const volumeId = `vol-nbd-${randomBytes(3).toString('hex')}`;
    const path = rawFile(dir, `${volumeId}.raw`);
    const port = await freePort();
    const exportName = volumeId;
    const child: ChildProcess = spawn('qemu-nbd', ['-f', 'raw', '-b', '127.0.0.1', '-p', String(port), '-x', exportName, '-t', path], { stdio: 'ignore' });
    await waitForPort(port, child);
    return {
      connectionInfo: { driverVolumeType: 'nbd', volumeId, data: { host: '127.0.0.1', port, exportName } },
      mountpoint: '/dev/vdc',
      verify: (i: InstanceRef) => verifyGuestWrite(driver(), i, volumeId, path),
      cleanup: async () => {
        child.kill('SIGTERM');
        rmSync(path, { force: true });
      },
    };
  };
}

/** A target on our private tgtd; with `chap`, CHAP authentication bound to the target. */
export function iscsiVolume(driver: () => LibvirtDriver, dir: string, tgt: TgtDaemon, chap: boolean): () => Promise<VolumeFixture> {
  return async () => {
    const volumeId = `vol-iscsi${chap ? 'c' : ''}-${randomBytes(3).toString('hex')}`;
    const creds = chap ? { user: `lv${randomBytes(3).toString('hex')}`, password: randomBytes(9).toString('base64url') } : undefined;
    const target = tgt.createTarget(dir, creds);
    return {
      connectionInfo: {
        driverVolumeType: 'iscsi',
        volumeId,
        data: {
          targetPortal: `127.0.0.1:${tgt.port}`,
          targetIqn: target.iqn,
          targetLun: 1,
          ...(creds ? { authMethod: 'CHAP' as const, authUsername: creds.user, authPassword: creds.password } : {}),
        },
      },
      mountpoint: chap ? '/dev/vde' : '/dev/vdd',
      verify: (i: InstanceRef) => verifyGuestWrite(driver(), i, volumeId, target.backing),
      cleanup: async () => target.cleanup(),
    };
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`qemu-nbd exited with ${child.exitCode}; is qemu-utils installed?`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`qemu-nbd did not listen on 127.0.0.1:${port} within 10 s`);
}
