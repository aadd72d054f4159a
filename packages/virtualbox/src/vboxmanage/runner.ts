import type { Logger } from 'pino';
import { HypervisorUnavailableError, LockedError, TimeoutError, TransientError, type ProcessRunner } from '@virtplug/core';
import { toVirtplugError, type CallDescription } from './errors.js';
import { hasErrorLine } from './parse/error-output.js';
import { parseVersion, type VBoxVersion } from './parse/version.js';
import { redactArgs } from './redact.js';

export interface VBoxRunnerOptions {
  cmd: string;
  retryCount: number;
  retryIntervalMs: number;
  timeoutMs: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export interface CallOptions {
  timeoutMs?: number;
  /** Retry lock and transient errors (default true). */
  retry?: boolean;
  /** Further stderr patterns worth retrying for this call (startvm: VERR_INTERNAL_ERROR). */
  retryOn?: RegExp;
  /** The machine or medium addressed, for error messages. */
  target?: string;
}

export interface CallResult {
  stdout: string;
  stderr: string;
  attempts: number;
}

/** Output is parsed in English: VBoxManage translates its human-readable lists in newer releases. */
export const VBOX_ENV = Object.freeze({ LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });

const ACTION_SECOND = new Set(['list', 'closemedium', 'createmedium', 'showmediuminfo', 'modifymedium', 'setproperty']);
const ACTION_THIRD = new Set(['controlvm', 'snapshot']);

/** `controlvm poweroff`, `list vms`, `showvminfo`: enough to say which call failed without the argv. */
function describe(cmd: string, args: readonly string[], target?: string): CallDescription {
  const sub = args[0] ?? '';
  const action = ACTION_SECOND.has(sub) ? args[1] : ACTION_THIRD.has(sub) ? args[2] : undefined;
  return { cmd, subcommand: action ? `${sub} ${action}` : sub, ...(target ? { target } : {}) };
}

/**
 * The only place VBoxManage is executed: argv through core's ProcessRunner (never a shell), `--nologo`,
 * English output, a per-call timeout that kills the child, retries on lock and transient errors, and
 * errors mapped to core error types. Success is exit 0 without an `error:` line; progress text such as
 * "100%" on stderr proves nothing.
 */
export class VBoxManageRunner {
  private versionPromise?: Promise<VBoxVersion>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly processes: ProcessRunner,
    readonly options: VBoxRunnerOptions,
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get cmd(): string {
    return this.options.cmd;
  }

  async run(args: readonly string[], call: CallOptions = {}): Promise<CallResult> {
    const description = describe(this.options.cmd, args, call.target);
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    const tries = call.retry === false ? 1 : Math.max(1, this.options.retryCount);
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      const result = await this.processes.run(this.options.cmd, ['--nologo', ...args], { timeoutMs, env: { ...VBOX_ENV } });
      this.options.logger?.debug(
        { argv: redactArgs(args), exitCode: result.exitCode, ms: Date.now() - started, attempt },
        'VBoxManage call',
      );
      if (result.spawnError || result.exitCode === 126 || result.exitCode === 127) {
        const code = result.spawnError?.code ?? `exit ${result.exitCode}`;
        throw new HypervisorUnavailableError(
          `VBoxManage could not be run from ${JSON.stringify(this.options.cmd)} (${code}${result.spawnError ? `: ${result.spawnError.message}` : ''}); ` +
            'install VirtualBox, or set [virtualbox] vboxmanage_cmd to the path of VBoxManage.',
          { path: this.options.cmd, code },
        );
      }
      if (result.timedOut) {
        throw new TimeoutError(
          `VBoxManage ${description.subcommand}`,
          timeoutMs,
          'the VBoxManage process was killed; VirtualBox may be hung (VBoxSVC), or raise [virtualbox] call_timeout_seconds',
        );
      }
      const stdout = result.stdout.replace(/\r\n/g, '\n');
      const stderr = result.stderr.replace(/\r\n/g, '\n');
      if (result.exitCode === 0 && !hasErrorLine(stderr)) return { stdout, stderr, attempts: attempt };
      const error = toVirtplugError(description, result.exitCode, stderr, attempt);
      const retryable = error instanceof LockedError || error instanceof TransientError || (call.retryOn?.test(stderr) ?? false);
      if (!retryable || attempt >= tries) throw error;
      this.options.logger?.info({ command: description.subcommand, attempt, code: error.code }, 'VBoxManage busy; retrying');
      await this.sleep(this.options.retryIntervalMs);
    }
  }

  /** `VBoxManage --version`, asked once per runner; a failure is not cached so a fixed install is seen. */
  version(): Promise<VBoxVersion> {
    this.versionPromise ??= this.run(['--version'], { retry: false }).then((r) => {
      const parsed = parseVersion(r.stdout) ?? parseVersion(`${r.stdout}\n${r.stderr}`);
      if (!parsed) {
        throw new HypervisorUnavailableError(
          `VBoxManage at ${JSON.stringify(this.options.cmd)} printed no version (${JSON.stringify(r.stdout.trim().slice(0, 200))}); check the VirtualBox installation.`,
          { path: this.options.cmd },
        );
      }
      return parsed;
    });
    this.versionPromise.catch(() => (this.versionPromise = undefined));
    return this.versionPromise;
  }
}
