import { buildMatrix, builtinDriverNames, loadDriverModule, readEvidenceDir, type Matrix } from '@virtplug/core';

/** Every registered driver's static declarations joined with the evidence the test suite wrote. */
export async function loadMatrix(evidenceDir: string, options: { includeReference?: boolean } = {}): Promise<Matrix> {
  const modules = [];
  for (const name of builtinDriverNames()) {
    const m = await loadDriverModule(name);
    if (m.inMatrix === false && !options.includeReference) continue;
    modules.push({ name: m.name, title: m.title, capabilities: m.capabilities });
  }
  return buildMatrix(modules, readEvidenceDir(evidenceDir));
}
