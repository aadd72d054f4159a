import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readDefaults, type VirtplugConfig } from './config.js';

/** The virtplug workspace root above `from`, if there is one (a checkout, not an installed package). */
export function findWorkspaceRoot(from = process.cwd()): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'nx.json'))) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'virtplug') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Where contract runs write evidence and the matrix reads it: config, env, the workspace, or state_path. */
export function evidenceDir(config: VirtplugConfig, hint?: string): string {
  const d = readDefaults(config);
  if (d.evidence_dir) return resolve(d.evidence_dir);
  if (process.env.VIRTPLUG_EVIDENCE_DIR) return resolve(process.env.VIRTPLUG_EVIDENCE_DIR);
  const root = findWorkspaceRoot() ?? (hint ? findWorkspaceRoot(hint) : undefined);
  return root ? join(root, 'docs', 'evidence') : join(d.state_path, 'evidence');
}
