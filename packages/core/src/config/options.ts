import { z } from 'zod';

/**
 * Option types for nova.conf-style sections. INI gives strings, JSON gives typed values; each option
 * accepts both, and carries a human sentence of what it expects so a config error can say it.
 */
export interface OptionSpec<T = unknown> {
  schema: z.ZodType<T>;
  default: T;
  expected: string;
  help: string;
  secret?: boolean;
}

const NONE = /^(none|null)$/i;

function fromString<T>(schema: z.ZodType<T>, parse: (s: string) => unknown) {
  return z.preprocess((v) => (typeof v === 'string' ? parse(v.trim()) : v), schema) as unknown as z.ZodType<T>;
}

export const opt = {
  bool(def: boolean, help: string): OptionSpec<boolean> {
    const parse = (s: string) =>
      /^(true|yes|on|1)$/i.test(s) ? true : /^(false|no|off|0)$/i.test(s) ? false : s;
    return { schema: fromString(z.boolean(), parse), default: def, expected: 'a boolean (true or false)', help };
  },
  int(def: number, help: string, range: { min?: number; max?: number } = {}): OptionSpec<number> {
    let s = z.number().int();
    if (range.min !== undefined) s = s.min(range.min);
    if (range.max !== undefined) s = s.max(range.max);
    const expected = `an integer${range.min !== undefined ? ` >= ${range.min}` : ''}${range.max !== undefined ? ` <= ${range.max}` : ''}`;
    return { schema: fromString(s, (v) => (/^-?\d+$/.test(v) ? Number(v) : v)), default: def, expected, help };
  },
  optionalInt(help: string, range: { min?: number } = {}): OptionSpec<number | null> {
    let s = z.number().int();
    if (range.min !== undefined) s = s.min(range.min);
    const schema = fromString(s.nullable(), (v) => (NONE.test(v) || v === '' ? null : /^-?\d+$/.test(v) ? Number(v) : v));
    return { schema, default: null, expected: `an integer${range.min !== undefined ? ` >= ${range.min}` : ''} or None`, help };
  },
  number(def: number, help: string, range: { min?: number } = {}): OptionSpec<number> {
    let s = z.number();
    if (range.min !== undefined) s = s.min(range.min);
    const schema = fromString(s, (v) => (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
    return { schema, default: def, expected: `a number${range.min !== undefined ? ` >= ${range.min}` : ''}`, help };
  },
  str(def: string, help: string): OptionSpec<string> {
    return { schema: z.string(), default: def, expected: 'a string', help };
  },
  optionalStr(help: string, extra: { secret?: boolean } = {}): OptionSpec<string | null> {
    const schema = fromString(z.string().nullable(), (v) => (NONE.test(v) || v === '' ? null : v));
    return { schema, default: null, expected: 'a string or None', help, ...extra };
  },
  oneOf<T extends string>(values: readonly [T, ...T[]], def: T, help: string, caseInsensitive = false): OptionSpec<T> {
    const parse = (v: string) => (caseInsensitive ? (values.find((x) => x.toLowerCase() === v.toLowerCase()) ?? v) : v);
    return { schema: fromString(z.enum(values), parse), default: def, expected: `one of ${values.join(', ')}`, help };
  },
  list(def: string[], help: string): OptionSpec<string[]> {
    const parse = (v: string) => (v === '' ? [] : v.split(',').map((x) => x.trim()).filter(Boolean));
    return { schema: fromString(z.array(z.string()), parse), default: def, expected: 'a comma-separated list', help };
  },
  /** Free-form string validated by a predicate (URIs, port specs). */
  matching(def: string, help: string, expected: string, ok: (v: string) => boolean): OptionSpec<string> {
    return { schema: z.string().refine(ok), default: def, expected, help };
  },
};

export type SectionSpec = Record<string, OptionSpec<any>>;

export type SectionValues<S extends SectionSpec> = { [K in keyof S]: S[K]['default'] };
