/** One `bytes=` range resolved against a size; null = unsatisfiable; 'all' = no/ignored Range header. */
export type ResolvedRange = { start: number; end: number } | null | 'all';

/**
 * RFC 9110 single ranges: `bytes=a-b`, `bytes=a-`, `bytes=-n`. Multi-range requests are answered
 * with the whole file (allowed by the RFC), which the clients here never send.
 */
export function parseRange(header: string | undefined, size: number): ResolvedRange {
  if (!header) return 'all';
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return 'all';
  const [, a, b] = m;
  if (a === '' && b === '') return 'all';
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return null;
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return null;
  return { start, end };
}
