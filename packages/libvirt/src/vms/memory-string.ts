/**
 * Gridcentric's `--target` memory string (cobalt `memory_string_to_pages`): a number with an optional
 * unit b|kb|mb|gb|tb (case-insensitive, powers of 1024), a bare number meaning bytes; converted to 4 KiB
 * pages, floored, at least one page. Anything else (negative, fractional, garbage) is not an error:
 * cobalt logged a warning and launched without a target, and so do we.
 */
export const PAGE_BYTES = 4096;

const SHIFT: Record<string, bigint> = { '': 0n, b: 0n, kb: 10n, mb: 20n, gb: 30n, tb: 40n };

export type MemoryTarget = { pages: number; bytes: number } | { warning: string };

export function parseMemoryTarget(input: string): MemoryTarget {
  const m = /^(\d+)(b|kb|mb|gb|tb)?$/.exec(input.trim().toLowerCase());
  if (!m) {
    return { warning: `Ignoring --target ${JSON.stringify(input)}: expected a size like 512mb, 1GB or 12287b (units b, kb, mb, gb, tb); launching without a memory target.` };
  }
  const bytes = BigInt(m[1]!) << SHIFT[m[2] ?? '']!;
  let pages = bytes / BigInt(PAGE_BYTES);
  if (pages < 1n) pages = 1n;
  if (pages > BigInt(Number.MAX_SAFE_INTEGER) / BigInt(PAGE_BYTES)) {
    return { warning: `Ignoring --target ${JSON.stringify(input)}: ${bytes} bytes is beyond any host; launching without a memory target.` };
  }
  return { pages: Number(pages), bytes: Number(pages) * PAGE_BYTES };
}

/** libvirt memtune takes KiB. The target becomes the clone's soft limit (cgroup memory.soft_limit / memory.high). */
export function targetToSoftLimitKiB(pages: number): number {
  return pages * (PAGE_BYTES / 1024);
}
