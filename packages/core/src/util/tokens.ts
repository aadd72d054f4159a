import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented bearer token with the expected one in constant time: both are hashed first, so
 * neither the content nor the length leaks through timing. A missing token or an empty expectation
 * never matches.
 */
export function tokensEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string' || expected.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
