import { describe, expect, it } from '@jest/globals';
import { hasErrorCode } from '@virtplug/core';
import { MAX_PARAMS_BYTES, parseParamPairs, validateParams } from './params.js';

describe('guest params', () => {
  it('accepts string params with quotes, <, &, $(…) and ../ untouched', () => {
    const p = { a: `"quoted" 'single'`, b: '<tag>&amp;', c: '$(rm -rf /)', d: '../../etc/passwd' };
    expect(validateParams(p)).toEqual(p);
  });

  it('refuses more than 12 KiB of JSON, saying the size and the limit', () => {
    let err: unknown;
    try {
      validateParams({ big: 'x'.repeat(MAX_PARAMS_BYTES) });
    } catch (e) {
      err = e;
    }
    expect(hasErrorCode(err, 'invalid_argument')).toBe(true);
    expect((err as Error).message).toMatch(/12 KiB/);
    expect((err as Error).message).toMatch(/bytes of JSON/);
  });

  it('accepts exactly the limit', () => {
    const overhead = JSON.stringify({ k: '' }).length;
    expect(Object.keys(validateParams({ k: 'x'.repeat(MAX_PARAMS_BYTES - overhead) }))).toEqual(['k']);
  });

  it('refuses non-string values and bad keys', () => {
    expect(() => validateParams({ n: 1 as unknown as string })).toThrow(/expected a string/);
    expect(() => validateParams({ '': 'x' })).toThrow(/params key/);
    expect(() => validateParams({ 'a=b': 'x' })).toThrow(/params key/);
  });

  it('splits k=v on the first =', () => {
    expect(parseParamPairs(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseParamPairs(['novalue'])).toThrow(/key=value/);
  });
});
