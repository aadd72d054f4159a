import { describe, expect, it } from '@jest/globals';
import { tokensEqual } from './tokens.js';

describe('tokensEqual', () => {
  it('matches only the exact token', () => {
    expect(tokensEqual('s3cret-token-0123456789', 's3cret-token-0123456789')).toBe(true);
    expect(tokensEqual('s3cret-token-0123456788', 's3cret-token-0123456789')).toBe(false);
    expect(tokensEqual('s3cret-token-012345678', 's3cret-token-0123456789')).toBe(false);
    expect(tokensEqual('s3cret-token-0123456789x', 's3cret-token-0123456789')).toBe(false);
  });
  it('never matches a missing token or an empty expectation', () => {
    expect(tokensEqual(undefined, 'x')).toBe(false);
    expect(tokensEqual(null, 'x')).toBe(false);
    expect(tokensEqual('', '')).toBe(false);
  });
});
