import { InvalidArgumentError, InvalidStateError, POWER_STATE_NAMES, PowerState, UnsupportedOperationError, type InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { validateUuid } from '../xml/names.js';

/** Nova's default admin user of a Linux guest (image property os_admin_user). */
export const ADMIN_USER = 'root';
const MAX_BYTES = 1024;

/**
 * Nova's set_admin_password: the guest agent (project agent, `set-password` op) stores the password
 * as a SHA-512 crypt hash in the guest's /etc/shadow. Like Nova with the QEMU guest agent, this needs
 * a running guest with its agent up. The password is never logged, nor put into an error.
 */
export async function setAdminPassword(deps: LibvirtDriverDeps, ref: InstanceRef, password: string): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  if (typeof password !== 'string' || password.length === 0 || Buffer.byteLength(password) > MAX_BYTES || password.includes('\0')) {
    throw new InvalidArgumentError('admin password', '(not shown)', `1 to ${MAX_BYTES} bytes without NUL characters`);
  }
  const state = await deps.domains.powerState(uuid);
  if (state !== PowerState.RUNNING) {
    throw new InvalidStateError(`Instance ${ref.name} is ${POWER_STATE_NAMES[state] ?? 'not running'}; its guest agent sets the password, so it must be running.`, { uuid });
  }
  const agent = deps.agentFor(ref);
  const timeoutMs = deps.config.op_timeout_seconds * 1000;
  await agent.waitReady(timeoutMs);
  await agent.request('set-password', { user: ADMIN_USER, password }, { timeoutMs }).catch((e: unknown) => {
    // A guest image built before the op existed: say so instead of "unknown op".
    if (/unknown op 'set-password'/.test((e as Error).message)) {
      throw new UnsupportedOperationError('libvirt', 'setAdminPassword', `the guest agent of ${ref.name} has no set-password operation: rebuild the guest image (tools/guest-image/build.sh) and boot the instance from it`);
    }
    throw e;
  });
  deps.logger.info({ uuid, user: ADMIN_USER }, 'admin password set');
}
