import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '@virtplug/core';

// Names are validated with the driver's own rule (xml/names.ts: validateDomainName); they become
// domain names and hostnames, never paths (every file is named by UUID).

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
