import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { InvalidArgumentError } from '@virtplug/core';

/**
 * Input rules shared by the router and the agent. Everything that reaches an argv, an nft script or a
 * QEMU option is checked here first: names are a strict charset (no quotes, spaces, `<`, `&`, commas,
 * `..`), addresses are parsed, numbers are ranged.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const idSchema = z.string().regex(ID).refine((s) => !s.includes('..'), 'must not contain ".."');

export const segmentSchema = z
  .object({ type: z.enum(['vlan', 'vxlan']), id: z.number().int().min(1) })
  .refine((s) => (s.type === 'vlan' ? s.id <= 4094 : s.id <= 16777215), 'VLAN ids are 1-4094, VNIs 1-16777215');

export const ipv4Schema = z.string().refine((s) => isIPv4(s), 'an IPv4 address');
export const cidrSchema = z.string().refine((s) => parseCidr(s) !== null, 'an IPv4 address with prefix, like 10.0.0.5/24');

const hostPort = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/;
export const portalSchema = z.string().refine((s) => {
  const m = hostPort.exec(s);
  return !!m && Number(m[2]) > 0 && Number(m[2]) < 65536;
}, 'host:port');

/** iqn.YYYY-MM.reversed.domain[:name]; ':' and '.' are the only punctuation QEMU and tgt agree on. */
export const iqnSchema = z.string().regex(/^iqn\.\d{4}-\d{2}\.[a-z0-9][a-z0-9.-]*(:[A-Za-z0-9._:-]+)?$/).max(223);

const chapSchema = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@:-]{1,64}$/),
  password: z.string().min(1).max(255),
});

export const backendSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('iscsi'), portal: portalSchema, iqn: iqnSchema, lun: z.number().int().min(0).max(16383), chap: chapSchema.optional() }),
  z.object({
    type: z.literal('file'),
    path: z.string().regex(/^\/[^,\0]*$/).refine((p) => !p.split('/').includes('..'), 'no ".." segments'),
    format: z.enum(['raw', 'qcow2']),
  }),
]);

/** Export names end up in nbd:// URLs and QEMU options. */
export const exportNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);

export function parseCidr(s: string): { ip: string; prefix: number } | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) return null;
  return { ip: m[1]!, prefix: Number(m[2]) };
}

/** Parses with a schema, turning the first issue into InvalidArgumentError(what, value, expected). */
export function check<T>(schema: z.ZodType<T>, value: unknown, what: string, expected: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue?.path.length ? `${what}.${issue.path.join('.')}` : what;
  throw new InvalidArgumentError(at, redactForError(value), `${expected}${issue?.message ? ` (${issue.message})` : ''}`);
}

/** Error details must never echo a secret back. */
function redactForError(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  return JSON.parse(JSON.stringify(value, (k, v) => (/password|token|secret/i.test(k) ? '***' : v)));
}
