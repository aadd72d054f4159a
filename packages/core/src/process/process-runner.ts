import { execa } from 'execa';

export interface RunOptions {
  /** Kill the child (SIGKILL) when it runs longer than this. */
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string | Buffer;
  cwd?: string;
}

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: { code: string; message: string };
}

/**
 * The port every driver runs external programs through (virsh, VBoxManage, qemu-img, tgtadm). Argv
 * arrays only: there is no way to pass a shell string, by design.
 */
export interface ProcessRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export class ExecaProcessRunner implements ProcessRunner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await execa(file, [...args], {
      reject: false,
      shell: false,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      env: { LC_ALL: 'C', ...options.env },
      input: options.input,
      cwd: options.cwd,
      stripFinalNewline: false,
    });
    const err = result as unknown as { code?: string; originalMessage?: string; failed: boolean };
    const spawnError =
      result.exitCode === undefined && !result.timedOut && err.code
        ? { code: err.code, message: err.originalMessage ?? String(err.code) }
        : undefined;
    return {
      exitCode: result.exitCode ?? null,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      timedOut: Boolean(result.timedOut),
      ...(spawnError ? { spawnError } : {}),
    };
  }
}
