import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { InstanceRef, VolumeFixture } from '@virtplug/core';
import type { LibvirtDriver } from '../../src/driver.js';
import { guestDeviceFor, verifyGuestWrite } from '../../src/contract/guest.js';
import { fileVolume as plainFileVolume, rawFile } from '../../src/contract/file-volume.js';
import { freePort, TgtDaemon } from './tgt.js';

type SwapHooks = Pick<VolumeFixture, 'guestWrite' | 'guestRead' | 'readBacking'>;

/**
 * The swap check's eyes: the guest agent reads and writes the device attached for `volumeId` (found by
 * its serial, which a swap keeps), and the host reads `backing` directly.
 */
export function swapHooks(driver: () => LibvirtDriver, volumeId: string, backing: string): SwapHooks {
  const device = async (i: InstanceRef) => {
    const agent = driver().guestAgent(i);
    return { agent, device: await guestDeviceFor(agent, volumeId) };
  };
  return {
    async guestWrite(i, offset, data) {
      const { agent, device: dev } = await device(i);
      await agent.request('disk-write', { device: dev, offset, data_b64: Buffer.from(data).toString('base64') }, { timeoutMs: 30_000 });
    },
    async guestRead(i, offset, length) {
      const { agent, device: dev } = await device(i);
      const r = await agent.request<{ data_b64: string }>('disk-read', { device: dev, offset, length }, { timeoutMs: 30_000 });
      return Buffer.from(r.data_b64, 'base64');
    },
    async readBacking(offset, length) {
      const fh = await open(backing, 'r');
      try {
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, offset);
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}

/** src/contract's raw file volume, plus the swap check's hooks. */
export function fileVolume(driver: () => LibvirtDriver, dir: string): () => Promise<VolumeFixture> {
  const make = plainFileVolume(driver, dir);
  return async () => {
    const f = await make();
    const ci = f.connectionInfo;
    return ci.driverVolumeType === 'file' ? { ...f, ...swapHooks(driver, ci.volumeId, ci.data.path) } : f;
  };
}

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
      ...swapHooks(driver, volumeId, path),
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
      ...swapHooks(driver, volumeId, target.backing),
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
