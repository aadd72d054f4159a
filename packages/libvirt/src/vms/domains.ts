import { NotFoundError, hasErrorCode } from '@virtplug/core';
import { DomainState, type DomainRef } from '../transport/port.js';
import type { VmsContext } from './context.js';
import { isUuid } from './names.js';
import { VMS_KEY, VMS_NS, parseVmsMetadata, type CloneMetadata, type SourceMetadata } from './records.js';

/** A domain by UUID, or by name (the CLI takes either); null when libvirt has neither. */
export async function findDomain(ctx: VmsContext, id: string): Promise<DomainRef | null> {
  if (isUuid(id)) {
    const byUuid = await ctx.transport.find(id.toLowerCase());
    if (byUuid) return byUuid;
  }
  return ctx.transport.lookupByName(id);
}

export async function domainExists(ctx: VmsContext, uuid: string): Promise<boolean> {
  return (await ctx.transport.find(uuid)) !== null;
}

export async function domainState(ctx: VmsContext, uuid: string): Promise<DomainState | null> {
  try {
    return (await ctx.transport.getInfo(uuid)).state;
  } catch (e) {
    if (hasErrorCode(e, 'not_found')) return null;
    throw e;
  }
}

export async function isPersistent(ctx: VmsContext, uuid: string): Promise<boolean> {
  const out = await ctx.virsh.run(['dominfo', uuid], { subject: { kind: 'Instance', id: uuid } });
  return /^Persistent:\s+yes/m.test(out);
}

export async function readVmsMetadata(ctx: VmsContext, uuid: string): Promise<{ clone?: CloneMetadata; source?: SourceMetadata }> {
  const r = await ctx.runner.run('virsh', ['-c', ctx.uri, 'metadata', uuid, VMS_NS], { timeoutMs: ctx.timeouts.opMs });
  // "metadata not found" is the normal case for a domain VMS never touched.
  return r.exitCode === 0 ? parseVmsMetadata(r.stdout) : {};
}

export async function writeVmsMetadata(ctx: VmsContext, uuid: string, xml: string): Promise<void> {
  const persistent = await isPersistent(ctx, uuid);
  const running = (await domainState(ctx, uuid)) !== DomainState.SHUTOFF;
  await ctx.transport.setMetadata(uuid, { uri: VMS_NS, key: VMS_KEY }, xml, { live: running, config: persistent });
}

/** Stops and forgets a domain VMS created; missing pieces are fine (idempotent). */
export async function destroyDomain(ctx: VmsContext, uuid: string): Promise<void> {
  const state = await domainState(ctx, uuid);
  if (state === null) return;
  if (state !== DomainState.SHUTOFF) {
    // The domain may vanish meanwhile (a failed restore is cleaned up by libvirt itself).
    await ctx.transport.destroy(uuid).catch((e: unknown) => (hasErrorCode(e, 'invalid_state') || hasErrorCode(e, 'not_found') ? undefined : Promise.reject(e)));
  }
  if (await domainExists(ctx, uuid)) {
    await ctx.virsh
      .undefine(uuid, { removeAll: true })
      .catch((e: unknown) => (hasErrorCode(e, 'not_found') || /transient|not found|failed to get domain/i.test(String((e as Error).message)) ? undefined : Promise.reject(e)));
  }
}

export function notFound(id: string): NotFoundError {
  return new NotFoundError('Instance', id, "it is neither a libvirt domain nor a live image; see 'virtplug list' and 'virtplug list-blessed'");
}
