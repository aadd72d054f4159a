import { describe, expect, it } from '@jest/globals';
import { parseMemoryTarget, targetToSoftLimitKiB } from './memory-string.js';

describe('parseMemoryTarget (Gridcentric memory_string_to_pages)', () => {
  it.each([
    ['12287b', 2],
    ['512', 1],
    ['1GB', 262144],
    ['1gb', 262144],
    ['4096', 1],
    ['8192B', 2],
    ['1kb', 1],
    ['512mb', 131072],
    ['512MB', 131072],
    ['2Tb', 2 * 268435456],
    ['0', 1],
    [' 64mb ', 16384],
  ])('%s -> %d pages', (input, pages) => {
    const t = parseMemoryTarget(input);
    expect('pages' in t && t.pages).toBe(pages);
    expect('bytes' in t && t.bytes).toBe(pages * 4096);
  });

  it.each(['', 'garbage', '-1', '1.5gb', '1 gb', '1pb', 'mb', '0x10'])('%j -> a warning and no target', (input) => {
    const t = parseMemoryTarget(input);
    expect('warning' in t).toBe(true);
    expect('warning' in t && t.warning).toMatch(/without a memory target/);
  });

  it('maps pages to a memtune soft limit in KiB', () => {
    expect(targetToSoftLimitKiB(262144)).toBe(1048576);
    expect(targetToSoftLimitKiB(1)).toBe(4);
  });
});
