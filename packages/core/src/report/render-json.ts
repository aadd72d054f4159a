import type { Matrix } from './matrix.js';

/** `{"features":[{id,title,group,status}],"drivers":[{name,cells:{id:{status,evidence}}}]}`. */
export function renderJson(m: Matrix): string {
  return JSON.stringify(
    {
      features: m.features,
      drivers: m.drivers.map((d) => ({ name: d.name, title: d.title, cells: d.cells })),
      unbackedClaims: m.unbackedClaims,
    },
    null,
    2,
  );
}
