import type { VirtualBoxSection } from '../config.js';

/**
 * The VRDE (VNC) password: with `vrde_require_instance_uuid_as_password`, the instance UUID cut to
 * `vrde_password_length` (nova-virtualbox, and its patched noVNC URL `&password=<uuid>`). Otherwise none.
 */
export function vrdePassword(instanceUuid: string, config: Pick<VirtualBoxSection, 'vrde_require_instance_uuid_as_password' | 'vrde_password_length'>): string | undefined {
  if (!config.vrde_require_instance_uuid_as_password) return undefined;
  const length = config.vrde_password_length;
  return length === null ? instanceUuid : instanceUuid.slice(0, length);
}
