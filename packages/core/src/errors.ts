/**
 * The error taxonomy. Errors cross package boundaries only as these types; callers branch on the stable
 * `code`, never on message text. Every message says what was wrong and what to do about it.
 */
export type ErrorCode =
  | 'not_found'
  | 'invalid_state'
  | 'unsupported'
  | 'locked'
  | 'transient'
  | 'invalid_argument'
  | 'invalid_config'
  | 'hypervisor_unavailable'
  | 'timeout'
  | 'conflict'
  | 'operation_failed';

export abstract class VirtplugError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether repeating the same call later may succeed. */
  readonly retryable: boolean = false;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, name: this.name, message: this.message, details: this.details };
  }
}

export class NotFoundError extends VirtplugError {
  readonly code = 'not_found' as const;
  constructor(kind: string, id: string, hint = '', options?: { cause?: unknown }) {
    super(`${kind} ${JSON.stringify(id)} could not be found${hint ? `; ${hint}` : ''}.`, { kind, id }, options);
  }
}

export class InvalidStateError extends VirtplugError {
  readonly code = 'invalid_state' as const;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

export class UnsupportedOperationError extends VirtplugError {
  readonly code = 'unsupported' as const;
  constructor(
    readonly driver: string,
    readonly operation: string,
    reason = '',
  ) {
    super(
      `Driver ${JSON.stringify(driver)} does not support ${operation}${reason ? ` (${reason})` : ''}; ` +
        `see 'virtplug matrix' for what each driver can do.`,
      { driver, operation },
    );
  }
}

export class LockedError extends VirtplugError {
  readonly code = 'locked' as const;
  override readonly retryable = true;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

export class TransientError extends VirtplugError {
  readonly code = 'transient' as const;
  override readonly retryable = true;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

export class InvalidArgumentError extends VirtplugError {
  readonly code = 'invalid_argument' as const;
  /** `what` names the thing, `value` is what was given, `expected` says what would be accepted. */
  constructor(what: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${what}: ${describeValue(value)}; expected ${expected}.`, { what, value, expected }, options);
  }
}

export class ConfigError extends VirtplugError {
  readonly code = 'invalid_config' as const;
  constructor(
    readonly file: string,
    readonly section: string,
    readonly key: string,
    value: unknown,
    expected: string,
  ) {
    super(
      `${file}: [${section}] ${key} = ${describeValue(value)} is invalid; expected ${expected}.`,
      { file, section, key, value, expected },
    );
  }
}

export class HypervisorUnavailableError extends VirtplugError {
  readonly code = 'hypervisor_unavailable' as const;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

export class TimeoutError extends VirtplugError {
  readonly code = 'timeout' as const;
  override readonly retryable = true;
  constructor(operation: string, timeoutMs: number, hint = '', options?: { cause?: unknown }) {
    super(`${operation} did not finish within ${timeoutMs} ms${hint ? `; ${hint}` : ''}.`, { operation, timeoutMs }, options);
  }
}

export class ConflictError extends VirtplugError {
  readonly code = 'conflict' as const;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

/** A backend operation failed for a reason none of the other types describes. */
export class OperationFailedError extends VirtplugError {
  readonly code = 'operation_failed' as const;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, details, options);
  }
}

export function isVirtplugError(e: unknown): e is VirtplugError {
  return e instanceof VirtplugError;
}

export function hasErrorCode(e: unknown, code: ErrorCode): boolean {
  return isVirtplugError(e) && e.code === code;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
