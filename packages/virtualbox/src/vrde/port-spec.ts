/**
 * `vrde_port` specs: "3389", "5900-6000", "6, 7-8". Two readers: the lenient one keeps nova-virtualbox's
 * `_get_ports` behaviour (junk items are skipped, result unique and sorted descending), the strict one
 * validates configuration so a typo is reported instead of silently shrinking the pool.
 */
const PORT = /^\d{1,5}$/;
const RANGE = /^(\d{1,5})\s*-\s*(\d{1,5})$/;

function inRange(n: number): boolean {
  return n >= 1 && n <= 65535;
}

export function parsePortSpec(spec: string): number[] {
  const ports = new Set<number>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    const range = RANGE.exec(item);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (!inRange(lo) || !inRange(hi)) continue;
      for (let p = Math.min(lo, hi); p <= Math.max(lo, hi); p++) ports.add(p);
    } else if (PORT.test(item) && inRange(Number(item))) {
      ports.add(Number(item));
    }
  }
  return [...ports].sort((a, b) => b - a);
}

/** Every item must be a port or an ascending range within 1-65535. */
export function isValidPortSpec(spec: string): boolean {
  const items = spec.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) return false;
  return items.every((item) => {
    const range = RANGE.exec(item);
    if (range) return inRange(Number(range[1])) && inRange(Number(range[2])) && Number(range[1]) <= Number(range[2]);
    return PORT.test(item) && inRange(Number(item));
  });
}
