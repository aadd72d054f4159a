import { InvalidArgumentError } from '@virtplug/core';

export const MAX_NAME_LENGTH = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Domain names. Decision: quotes, `<`, `>`, `&` and inner spaces are allowed and escaped (libvirt
 * accepts them, we always escape XML, we pass names to virsh only as separate argv entries, and no
 * path is ever built from a name: files live under the instance UUID). Refused: `/` (libvirt refuses
 * it), `..` (a path-traversal smell wherever a name is shown next to paths), control characters,
 * leading/trailing whitespace, empty and over-long names.
 */
export function validateDomainName(name: unknown): string {
  const expected = `1–${MAX_NAME_LENGTH} printable characters without '/', '..', control characters or leading/trailing spaces`;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('instance name', name, expected);
  if ([...name].length > MAX_NAME_LENGTH) throw new InvalidArgumentError(`instance name (${[...name].length} characters)`, name, expected);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new InvalidArgumentError('instance name (control character)', name, expected);
  if (name.includes('/')) throw new InvalidArgumentError("instance name (contains '/')", name, expected);
  if (name.includes('..')) throw new InvalidArgumentError("instance name (contains '..')", name, expected);
  if (name.trim() !== name) throw new InvalidArgumentError('instance name (leading or trailing whitespace)', name, expected);
  return name;
}

/** Instance UUIDs name directories (`<instances_path>/<uuid>`), so only the canonical form is accepted. */
export function validateUuid(uuid: unknown, what = 'instance UUID'): string {
  if (typeof uuid !== 'string' || !UUID.test(uuid)) throw new InvalidArgumentError(what, uuid, 'a UUID like 0feac370-c75b-47b3-8999-0d65841bef76');
  return uuid.toLowerCase();
}

export function isUuid(s: string): boolean {
  return UUID.test(s);
}
