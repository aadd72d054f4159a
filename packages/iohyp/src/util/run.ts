import { HypervisorUnavailableError, OperationFailedError, TimeoutError, type ProcessRunner, type RunOptions, type RunResult } from '@virtplug/core';

/** Debian packages that provide the programs the agent runs, for "install X" hints. */
const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  'ovs-vsctl': 'openvswitch-switch',
  nft: 'nftables',
  'qemu-storage-daemon': 'qemu-system-common',
  'qemu-nbd': 'qemu-utils',
  'qemu-img': 'qemu-utils',
};

/**
 * Runs argv (never a shell) and returns the result, or throws a core error that names the command, its
 * exit code and its stderr. `secrets` are scrubbed from anything that ends up in the message.
 */
export async function runChecked(
  runner: ProcessRunner,
  file: string,
  args: readonly string[],
  options: RunOptions & { what: string; secrets?: string[]; timeoutMs?: number } ,
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = await runner.run(file, args, { ...options, timeoutMs });
  const scrub = (s: string) => (options.secrets ?? []).reduce((acc, x) => (x ? acc.split(x).join('***') : acc), s);
  if (result.spawnError) {
    const pkg = PACKAGE_OF[file];
    throw new HypervisorUnavailableError(
      `Cannot run ${file} to ${options.what}: ${result.spawnError.message}${pkg ? `; install ${pkg}` : ''}.`,
      { program: file, code: result.spawnError.code },
    );
  }
  if (result.timedOut) throw new TimeoutError(`${file} (${options.what})`, timeoutMs);
  if (result.exitCode !== 0) {
    const stderr = scrub(result.stderr.trim() || result.stdout.trim()).slice(-800);
    throw new OperationFailedError(`${file} failed to ${options.what} (exit ${result.exitCode}): ${stderr || 'no output'}`, {
      program: file,
      exitCode: result.exitCode,
      stderr,
    });
  }
  return result;
}
