import {
  ConflictError,
  HypervisorUnavailableError,
  InvalidArgumentError,
  InvalidStateError,
  LockedError,
  NotFoundError,
  OperationFailedError,
  TransientError,
  type VirtplugError,
} from '@virtplug/core';
import { parseErrorOutput, type VBoxErrorOutput } from './parse/error-output.js';

/** What a failed call was, for messages: never the full argv (it may carry an iSCSI secret). */
export interface CallDescription {
  cmd: string;
  subcommand: string;
  /** The machine or medium the call addressed, when there is one. */
  target?: string;
}

export type FailureKind =
  | 'not_found'
  | 'locked'
  | 'transient'
  | 'invalid_state'
  | 'file_not_found'
  | 'file_conflict'
  | 'file_error'
  | 'invalid_argument'
  | 'unavailable'
  | 'failed';

/** The taxonomy of reference §8, by COM code first and message text second (codes are absent on some paths). */
export function classify(err: VBoxErrorOutput, stderr: string): FailureKind {
  const code = err.code ?? '';
  if (code === 'VBOX_E_OBJECT_NOT_FOUND' || /Could not find a registered machine (named|with UUID)/.test(stderr)) return 'not_found';
  if (/already locked (for|by) a session/.test(stderr)) return 'locked';
  if (code === 'E_ACCESSDENIED' || /The object is not ready/.test(stderr)) return 'transient';
  if (code === 'VBOX_E_INVALID_OBJECT_STATE') return 'locked';
  if (
    code === 'VBOX_E_INVALID_VM_STATE' ||
    /Invalid machine state|is not mutable|Machine in invalid state|is not currently running|VM is paused due to host power management/.test(stderr)
  ) {
    return 'invalid_state';
  }
  if (/vboxdrv kernel module is not loaded|\/dev\/vboxdrv does not exist|failed to open \/dev\/vboxnetctl/i.test(stderr)) return 'unavailable';
  if (code === 'VBOX_E_FILE_ERROR' || err.iprt.some((c) => /^VERR_(FILE|PATH|ALREADY|DISK_FULL)/.test(c))) {
    if (err.iprt.some((c) => c === 'VERR_FILE_NOT_FOUND' || c === 'VERR_PATH_NOT_FOUND')) return 'file_not_found';
    if (err.iprt.includes('VERR_ALREADY_EXISTS') || /already exists/.test(stderr)) return 'file_conflict';
    return 'file_error';
  }
  if (code === 'NS_ERROR_INVALID_ARG' || err.syntaxError !== undefined) return 'invalid_argument';
  return 'failed';
}

function firstMessage(err: VBoxErrorOutput, stderr: string): string {
  const text = err.messages[0] ?? err.syntaxError ?? stderr.trim().split(/\r?\n/).find((l) => l.trim()) ?? 'no error text';
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** Turns a failed VBoxManage call (non-zero exit, or an `error:` line) into a core error. */
export function toVirtplugError(call: CallDescription, exitCode: number | null, stderr: string, attempts = 1): VirtplugError {
  const err = parseErrorOutput(stderr);
  const kind = classify(err, stderr);
  const message = firstMessage(err, stderr);
  const where = `VBoxManage ${call.subcommand}`;
  const details = {
    command: call.subcommand,
    exitCode,
    ...(err.code ? { vboxCode: err.code } : {}),
    ...(err.iprt.length ? { iprt: err.iprt } : {}),
    ...(call.target ? { target: call.target } : {}),
    attempts,
    stderr: stderr.trim().slice(0, 2000),
  };
  const tried = attempts > 1 ? ` (tried ${attempts} times)` : '';
  switch (kind) {
    case 'not_found': {
      const named = /registered machine (?:named '(.*)'|with UUID \{?([^}\s]+)\}?)/.exec(stderr);
      // Controllers, snapshots and media are objects too; only the machine messages name a machine.
      const kind = named ? 'VirtualBox machine' : 'VirtualBox object';
      const id = named?.[1] ?? named?.[2] ?? /'([^']+)'|\{([^}]+)\}/.exec(message)?.slice(1).find(Boolean) ?? call.target ?? 'unknown';
      const e = new NotFoundError(kind, id, `${where}: ${message}`);
      Object.assign(e.details, details);
      return e;
    }
    case 'locked':
      return new LockedError(
        `${where}: ${message}${tried}. Another session holds the machine; retry later, or raise [virtualbox] retry_count / retry_interval.`,
        details,
      );
    case 'transient':
      return new TransientError(`${where}: ${message}${tried}. VirtualBox was not ready; retry later.`, details);
    case 'invalid_state':
      return new InvalidStateError(`${where}: ${message}.`, details);
    case 'file_not_found': {
      const path = /'([^']+)'/.exec(message)?.[1] ?? call.target ?? 'unknown';
      const e = new NotFoundError('medium file', path, `${where}: ${message}`);
      Object.assign(e.details, details);
      return e;
    }
    case 'file_conflict':
      return new ConflictError(`${where}: ${message}. Remove or rename the existing file, or choose another path.`, details);
    case 'file_error':
      return new ConflictError(`${where}: ${message}.`, details);
    case 'invalid_argument':
      return new InvalidArgumentError(`${where} argument`, message, 'a value VBoxManage accepts (see its message)');
    case 'unavailable':
      return new HypervisorUnavailableError(`${where}: ${message}. VirtualBox is not usable on this host; fix its installation (e.g. sudo /sbin/vboxconfig).`, details);
    default:
      return new OperationFailedError(`${where} failed (exit ${exitCode ?? 'none'})${tried}: ${message}`, details);
  }
}
