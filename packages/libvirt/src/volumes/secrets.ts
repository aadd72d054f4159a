import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LibvirtDriverDeps } from '../context.js';

/** iSCSI CHAP secrets are libvirt secrets found by usage name `virtplug/<instance uuid>/<volume id>`. */
export function chapUsage(instanceUuid: string, volumeId: string): string {
  return `virtplug/${instanceUuid.toLowerCase()}/${volumeId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * Defines (or reuses) the secret and sets its value. The password goes to virsh through a 0600 file in
 * a private directory that is removed right after, never through argv (visible in `ps`) or a log.
 */
export async function ensureChapSecret(deps: LibvirtDriverDeps, usage: string, password: string): Promise<string> {
  const { transport } = deps;
  const existing = (await transport.secretList()).find((s) => s.usage === usage);
  const secretUuid = existing?.uuid ?? (await transport.secretDefine({ usage, description: `virtplug iSCSI CHAP secret ${usage}` }));
  const dir = await mkdtemp(join(tmpdir(), 'vp-lv-secret-'));
  try {
    const file = join(dir, 'value');
    await writeFile(file, password, { mode: 0o600 });
    await transport.secretSetValueFromFile(secretUuid, file);
  } catch (e) {
    if (!existing) await transport.secretUndefine(secretUuid).catch(() => undefined);
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return secretUuid;
}

export async function removeSecret(deps: LibvirtDriverDeps, usage: string): Promise<void> {
  for (const s of await deps.transport.secretList()) if (s.usage === usage) await deps.transport.secretUndefine(s.uuid);
}

export async function removeInstanceSecrets(deps: LibvirtDriverDeps, instanceUuid: string): Promise<void> {
  const prefix = `virtplug/${instanceUuid.toLowerCase()}/`;
  for (const s of await deps.transport.secretList()) if (s.usage.startsWith(prefix)) await deps.transport.secretUndefine(s.uuid);
}
