import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { GuestAgentClient, GuestProbe, InstanceRef } from '@virtplug/core';
import type { LibvirtDriver } from '../driver.js';
import { serialOf } from '../volumes/disk-spec.js';

const BOOT_MS = 120_000;

/** Sees the guest from inside, through the project's guest agent. */
export function agentProbe(driver: () => LibvirtDriver): GuestProbe {
  return {
    async identity(instance: InstanceRef) {
      const agent = driver().guestAgent(instance);
      await agent.waitReady(BOOT_MS);
      const id = await agent.request<{ boot_id: string; uptime_sec: number }>('identity');
      return { bootId: id.boot_id, uptimeSec: id.uptime_sec };
    },
  };
}

export async function waitForAgent(driver: LibvirtDriver, instance: InstanceRef): Promise<void> {
  await driver.guestAgent(instance).waitReady(BOOT_MS);
}

interface GuestDisk {
  name: string;
  serial?: string;
}

/** Waits for a hot-plugged disk with this volume's serial to show up in the guest; returns /dev/<name>. */
export async function guestDeviceFor(agent: GuestAgentClient, volumeId: string, timeoutMs = 30_000): Promise<string> {
  const serial = serialOf(volumeId);
  const deadline = Date.now() + timeoutMs;
  let seen: GuestDisk[] = [];
  while (Date.now() < deadline) {
    seen = (await agent.request<{ disks: GuestDisk[] }>('list-disks')).disks;
    const d = seen.find((x) => x.serial === serial);
    if (d) return `/dev/${d.name}`;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`No disk with serial ${serial} appeared in the guest within ${timeoutMs} ms; it sees ${JSON.stringify(seen)}`);
}

/** Writes random bytes from inside the guest and checks they landed at the same offset of the host backing file. */
export async function verifyGuestWrite(driver: LibvirtDriver, instance: InstanceRef, volumeId: string, backingFile: string): Promise<void> {
  const agent = driver.guestAgent(instance);
  const device = await guestDeviceFor(agent, volumeId);
  const bytes = randomBytes(4096);
  const offset = 8192;
  await agent.request('disk-write', { device, offset, data_b64: bytes.toString('base64') }, { timeoutMs: 30_000 });
  const fh = await open(backingFile, 'r');
  try {
    const got = Buffer.alloc(bytes.length);
    await fh.read(got, 0, got.length, offset);
    if (!got.equals(bytes)) throw new Error(`The bytes the guest wrote to ${device} are not at offset ${offset} of ${backingFile}`);
  } finally {
    await fh.close();
  }
}
