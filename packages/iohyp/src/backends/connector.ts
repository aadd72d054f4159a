import { realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { InvalidArgumentError, NotFoundError, type ProcessRunner } from '@virtplug/core';
import type { BackendSpec } from '../model.js';
import { runChecked } from '../util/run.js';
import { formatNode, protocolNode, secretObject } from './blockdev.js';

/** Connects (verifies and sizes) a backend on the IOhyp; the export opens it afterwards. */
export interface BackendConnector {
  /** Returns the size and the spec to export (a file path resolved to where it really is). */
  connect(spec: BackendSpec, secretFile: string | null): Promise<{ sizeBytes: number; spec: BackendSpec }>;
}

/**
 * "Logging in" with a userspace initiator: `qemu-img info` opens the LUN through libiscsi (CHAP from
 * a secret file) and reads its size, which proves reachability, ACL and credentials before anything is
 * exported. Files must resolve inside `[iohyp] file_roots`, symlinks included.
 */
export class QemuBackendConnector implements BackendConnector {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly initiatorIqn: string,
    private readonly fileRoots: readonly string[],
  ) {}

  async connect(given: BackendSpec, secretFile: string | null): Promise<{ sizeBytes: number; spec: BackendSpec }> {
    // Export what was checked: the resolved path, so a symlink swapped afterwards changes nothing.
    const spec: BackendSpec = given.type === 'file' ? { ...given, path: this.checkFile(given.path) } : given;
    const image = spec.type === 'file' ? formatNode(spec, this.initiatorIqn, 'probe') : protocolNode(spec, this.initiatorIqn);
    delete (image as { 'node-name'?: string })['node-name'];
    const args = ['info', '--output=json', ...(secretFile ? ['--object', secretObject(secretFile)] : []), `json:${JSON.stringify(image)}`];
    const what = spec.type === 'iscsi' ? `log in to ${spec.iqn} LUN ${spec.lun} at ${spec.portal}` : `open ${spec.path}`;
    const r = await runChecked(this.runner, 'qemu-img', args, { what, timeoutMs: 30_000, secrets: spec.type === 'iscsi' && spec.chap ? [spec.chap.password] : [] });
    const info = JSON.parse(r.stdout) as { 'virtual-size'?: number };
    return { sizeBytes: info['virtual-size'] ?? 0, spec };
  }

  private checkFile(path: string): string {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      throw new NotFoundError('Backend file', path, 'check the volume path', { cause: e });
    }
    const roots = this.fileRoots.map((r) => {
      try {
        return realpathSync(r);
      } catch {
        return r;
      }
    });
    if (!roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) {
      throw new InvalidArgumentError('file backend path', path, `a file under [iohyp] file_roots (${roots.join(', ') || 'none configured'})`);
    }
    const st = statSync(real);
    if (!st.isFile() && !st.isBlockDevice()) throw new InvalidArgumentError('file backend path', path, 'a regular file or block device');
    return real;
  }
}
