import type { BackendSpec } from '../model.js';

/** The QEMU object id under which a backend's CHAP password is passed (from a file, never argv). */
export const SECRET_ID = 'vpsec0';

/**
 * A backend as a QEMU block node: libiscsi in userspace (no kernel initiator needed; the lab kernel has
 * none) or a local file. Handed to qemu-img / qemu-storage-daemon / qemu-nbd as JSON, so no value is
 * ever parsed by QEMU's comma syntax.
 */
export function protocolNode(spec: BackendSpec, initiatorIqn: string): Record<string, unknown> {
  if (spec.type === 'iscsi') {
    return {
      driver: 'iscsi',
      transport: 'tcp',
      portal: spec.portal,
      target: spec.iqn,
      lun: spec.lun,
      'initiator-name': initiatorIqn,
      ...(spec.chap ? { user: spec.chap.username, 'password-secret': SECRET_ID } : {}),
    };
  }
  return { driver: 'file', filename: spec.path, aio: 'threads' };
}

export function formatNode(spec: BackendSpec, initiatorIqn: string, nodeName: string): Record<string, unknown> {
  return {
    driver: spec.type === 'file' ? spec.format : 'raw',
    'node-name': nodeName,
    file: protocolNode(spec, initiatorIqn),
  };
}

export function secretObject(secretFile: string): string {
  return JSON.stringify({ 'qom-type': 'secret', id: SECRET_ID, file: secretFile });
}
