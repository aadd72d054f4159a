import { InvalidArgumentError } from '@virtplug/core';

/**
 * Guest params (`--params k=v`), delivered to the in-guest agent, which runs the clone hooks with them
 * as JSON and as VMS_<key> variables. Gridcentric's grinder expects ~13 KB of params to fail the launch;
 * the limit is on the JSON the guest receives, checked before anything is created.
 */
export const MAX_PARAMS_BYTES = 12 * 1024;

export function validateParams(params: Record<string, unknown> | undefined): Record<string, string> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new InvalidArgumentError('params', params, 'an object of string keys and string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.length === 0 || k.length > 255 || /[\u0000-\u001f=]/.test(k)) {
      throw new InvalidArgumentError('params key', k, "1-255 characters without control characters or '='");
    }
    if (typeof v !== 'string') throw new InvalidArgumentError(`params value of ${JSON.stringify(k)}`, v, 'a string');
    if (v.includes('\u0000')) throw new InvalidArgumentError(`params value of ${JSON.stringify(k)}`, v, 'a string without NUL characters');
    out[k] = v;
  }
  const size = Buffer.byteLength(JSON.stringify(out), 'utf8');
  if (size > MAX_PARAMS_BYTES) {
    throw new InvalidArgumentError('params', `${size} bytes of JSON`, `at most ${MAX_PARAMS_BYTES} bytes (12 KiB); pass large data through a file or volume instead`);
  }
  return out;
}

/** `k=v` strings as the CLI receives them; the first '=' splits, so values may contain '='. */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError('--params', p, 'key=value');
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
