import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProcessRunner, RunOptions, RunResult } from '@virtplug/core';

/**
 * A ProcessRunner that plays qemu-img on real temp files (create writes a small file that records its
 * backing, convert copies, info reports it), so storage logic runs without QEMU. Other programs fail.
 */
export class FakeQemuImgRunner implements ProcessRunner {
  readonly calls: string[][] = [];
  failOn?: (args: readonly string[]) => boolean;

  async run(file: string, args: readonly string[], _o?: RunOptions): Promise<RunResult> {
    this.calls.push([file, ...args]);
    const ok = (stdout = ''): RunResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
    const fail = (stderr: string): RunResult => ({ exitCode: 1, stdout: '', stderr, timedOut: false });
    if (this.failOn?.(args)) return fail('injected failure');
    if (file !== 'qemu-img') return { exitCode: null, stdout: '', stderr: '', timedOut: false, spawnError: { code: 'ENOENT', message: `${file} not found` } };
    const positional = args.filter((a, i) => !a.startsWith('-') && !['-f', '-F', '-b', '-O'].includes(args[i - 1] ?? ''));
    switch (args[0]) {
      case 'create': {
        const b = args.indexOf('-b');
        const path = positional[1]!;
        writeFileSync(path, JSON.stringify({ backing: b >= 0 ? args[b + 1] : undefined, size: Number(positional[2] ?? 64 << 20) }));
        return ok();
      }
      case 'convert': {
        const [src, dst] = positional.slice(1);
        if (!existsSync(src!)) return fail(`qemu-img: Could not open '${src}': No such file or directory`);
        copyFileSync(src!, dst!);
        return ok();
      }
      case 'info': {
        const path = positional[1]!;
        if (!existsSync(path)) return fail(`qemu-img: Could not open '${path}': No such file or directory`);
        let meta: { backing?: string; size?: number } = {};
        try {
          meta = JSON.parse(readFileSync(path, 'utf8')) as typeof meta;
        } catch {
          meta = {};
        }
        return ok(JSON.stringify({ format: 'qcow2', 'virtual-size': meta.size ?? 64 << 20, ...(meta.backing ? { 'full-backing-filename': meta.backing } : {}) }));
      }
      case 'resize':
        return ok();
      default:
        return fail(`unknown qemu-img command ${args[0]}`);
    }
  }
}
