import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '@virtplug/core';

/**
 * Names of blessed images and clones become libvirt domain names and guest hostnames, never paths
 * (every file is named by UUID). Quotes, '<', '&', spaces and '$(…)' are fine: they reach libvirt
 * only as XML-escaped text and argv elements. '/' is refused, like libvirt does, and so are control
 * characters, which would corrupt logs and the XML.
 */
export function validateName(name: string, what = 'name'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError(what, name, 'a name of 1-200 characters');
  }
  if (name.includes('/')) throw new InvalidArgumentError(what, name, "a name without '/' (libvirt refuses it in domain names)");
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidArgumentError(what, name, 'a name without control characters');
  if (name !== name.trim()) throw new InvalidArgumentError(what, name, 'a name without leading or trailing spaces');
  return name;
}

/** An RFC 1123 hostname label derived from a name (the agent accepts letters, digits, '-' and '.'). */
export function hostnameFor(name: string, fallback: string): string {
  const h = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63)
    .replace(/-$/, '');
  return h || fallback;
}

/** A locally administered unicast MAC in QEMU's 52:54:00 range, as libvirt generates them. */
export function randomMac(): string {
  const b = randomBytes(3);
  return ['52', '54', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Record ids name directories: only canonical UUIDs may reach a path. */
export function assertUuid(id: string, what = 'id'): string {
  if (!isUuid(id)) throw new InvalidArgumentError(what, id, 'a lowercase UUID like 0feac370-c75b-47b3-8999-0d65841bef76');
  return id;
}
