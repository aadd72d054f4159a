import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecaProcessRunner, rootLogger, type ImageMeta, type InstanceRef } from '@virtplug/core';
import { LibvirtDriver } from '../../src/driver.js';
import { projectGuestImage } from '../../src/guest-image.js';
import { resolveLibvirtConfig, type LibvirtConfig } from '../../src/config.js';

export const GUEST_DIR = '/var/lib/virtplug/guest-image';
export const LIVE_URI = 'qemu:///system';
export const EVIDENCE_DIR = fileURLToPath(new URL('../../../../docs/evidence', import.meta.url));
/** Every domain and file these tests create carries this prefix (or lives under a vp-lv- temp dir). */
export const PREFIX = 'vp-lv-';

/** Fails (never skips) with the setup command when the guest image is missing. */
export function guestImage(): ImageMeta {
  return projectGuestImage(GUEST_DIR);
}

/** Fails with the command that starts libvirtd when qemu:///system does not answer. */
export function requireLibvirtd(): void {
  try {
    execFileSync('virsh', ['-c', LIVE_URI, 'version'], { stdio: 'pipe', timeout: 15_000 });
  } catch (e) {
    throw new Error(`libvirtd does not answer at ${LIVE_URI} (${(e as Error).message.split('\n')[0]}); start it with: bash tools/libvirt/start-libvirtd.sh`);
  }
}

export function stateDir(tag: string): string {
  return mkdtempSync(join('/var/tmp', `${PREFIX}${tag}-`));
}

export function makeDriver(config: Partial<LibvirtConfig>, statePath: string): LibvirtDriver {
  return new LibvirtDriver({
    config: resolveLibvirtConfig({ shutdown_timeout: 20, shutdown_retry_interval: 5, event_poll_interval: 0, ...config }, statePath),
    runner: new ExecaProcessRunner(),
    logger: rootLogger(process.env.VP_LOG_LEVEL ?? 'silent'),
  });
}

/** What is left of an instance: its domain (by UUID) and its directory. */
export function leftovers(uri: string, statePath: string, instance: InstanceRef): string[] {
  const out: string[] = [];
  try {
    execFileSync('virsh', ['-c', uri, 'domname', instance.uuid], { stdio: 'pipe' });
    out.push(`domain ${instance.uuid}`);
  } catch {
    // not defined: good
  }
  const dir = join(statePath, 'instances', instance.uuid);
  if (existsSync(dir)) out.push(dir);
  return out;
}

/** Removes every domain with our prefix that a crashed run may have left (only ours: `vp-lv-` / `vp-contract-` from this suite's UUIDs). */
export function destroyDomains(uri: string, uuids: string[]): void {
  for (const uuid of uuids) {
    for (const args of [['destroy', uuid], ['undefine', uuid, '--managed-save', '--snapshots-metadata']]) {
      try {
        execFileSync('virsh', ['-c', uri, ...args], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
  }
}
