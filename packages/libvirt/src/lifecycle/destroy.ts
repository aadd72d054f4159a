import { InvalidStateError, NotFoundError, UnsupportedOperationError, type DestroyOptions, type InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { DomainState } from '../transport/port.js';
import { validateUuid } from '../xml/names.js';
import { removeInstanceSecrets } from '../volumes/secrets.js';

/**
 * Destroy (Nova semantics): stop hard, undefine (with its managed-save image and snapshot metadata),
 * drop the instance's CHAP secrets, and remove its directory unless `destroyDisks: false`. Destroying
 * an instance that is already gone succeeds and still cleans up files left from a crash.
 */
export async function destroy(deps: LibvirtDriverDeps, ref: InstanceRef, options: DestroyOptions = {}): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  // A live image is discarded, never deleted; a source is not deleted while it is being blessed.
  await deps.vmsHooks?.beforeDestroy({ uuid, name: ref.name });
  const { transport, logger } = deps;
  const found = await transport.find(uuid);
  if (found) {
    const info = await transport.getInfo(uuid).catch(ignoreNotFound);
    if (info && info.state !== DomainState.SHUTOFF) {
      await transport.destroy(uuid).catch((e: unknown) => {
        if (!(e instanceof InvalidStateError) && !(e instanceof NotFoundError)) throw e;
      });
    }
    await transport.undefine(uuid, { removeAll: true }).catch(ignoreNotFound);
    deps.domains.forget(uuid);
  }
  await deps.agents.drop(uuid);
  await removeInstanceSecrets(deps, uuid).catch((e: unknown) => {
    if (!(e instanceof UnsupportedOperationError)) logger.warn({ uuid, err: (e as Error).message }, 'could not remove the instance\'s libvirt secrets');
  });
  if (options.destroyDisks !== false) await deps.files.remove(uuid);
  deps.events.observe({ uuid, name: found?.name ?? ref.name }, undefined);
  // A clone's overlays and sockets, a shared-mode template's RAM file.
  await deps.vmsHooks?.afterDestroy({ uuid, name: found?.name ?? ref.name });
  if (found) logger.info({ uuid, name: found.name }, 'destroyed');
}

function ignoreNotFound(e: unknown): undefined {
  if (e instanceof NotFoundError) return undefined;
  throw e;
}
