import {
  ConflictError,
  HypervisorUnavailableError,
  InvalidArgumentError,
  InvalidStateError,
  LockedError,
  NotFoundError,
  OperationFailedError,
  TimeoutError,
  UnsupportedOperationError,
  VirtplugError,
  isVirtplugError,
} from '@virtplug/core';

/** What was being done when libvirt failed, so the mapped error can say it. */
export interface ErrorContext {
  /** The operation, e.g. `domainLookupByUUIDString` or `virsh attach-device`. */
  op: string;
  uri: string;
  /** What the call was about, for not-found errors. */
  subject?: { kind: string; id: string };
  timeoutMs?: number;
}

export const START_DAEMON_HINT =
  'start it with `bash tools/libvirt/start-libvirtd.sh` (or `virtlogd -d && libvirtd -d`), or point [libvirt] connection_uri at a running daemon';

/**
 * @unraid/libvirt keeps only `err->message` (code, domain and level are all -1), and virsh prints the same
 * text on stderr, so both adapters map by message. Order matters: the most specific patterns come first.
 * Each rule returns a core error whose message says what failed and what to do.
 */
const RULES: Array<[RegExp, (m: string, c: ErrorContext, cause: unknown) => VirtplugError]> = [
  // QEMU's own failures (an NBD server refusing, a bad image) travel inside libvirt errors: they are
  // about the guest's backend, not about reaching libvirt.
  [
    /unable to execute QEMU command|process exited while connecting to monitor|QEMU unexpectedly closed/i,
    (m, c, cause) => new OperationFailedError(`QEMU failed during ${c.op}: ${m}`, { op: c.op, uri: c.uri, libvirtMessage: m }, { cause }),
  ],
  [
    /Failed to connect socket|Cannot recv data|Cannot write data|End of file while reading data|client socket is closed|no connection driver available|unable to connect to server|is the daemon running|not connected to the hypervisor/i,
    (m, c, cause) =>
      new HypervisorUnavailableError(`libvirt at ${c.uri} is not reachable (${m}); ${START_DAEMON_HINT}.`, { uri: c.uri, op: c.op, libvirtMessage: m }, { cause }),
  ],
  [
    /authentication (failed|unavailable)|access denied|Permission denied.*libvirt-sock/i,
    (m, c, cause) =>
      new HypervisorUnavailableError(`libvirt at ${c.uri} refused the connection (${m}); check the URI's credentials or run as a user allowed to use the socket.`, { uri: c.uri, op: c.op, libvirtMessage: m }, { cause }),
  ],
  [/cannot acquire state change lock/i, (m, c, cause) => new LockedError(`Another operation holds the domain's state lock (${m}); retry ${c.op} shortly.`, { op: c.op, libvirtMessage: m }, { cause })],
  [/Timed out during operation|operation timed out/i, (m, c, cause) => new TimeoutError(`${c.op} on ${c.uri}`, c.timeoutMs ?? 0, m, { cause })],
  [/not supported by the connection driver|Operation not supported|this function is not supported/i, (m, c) => new UnsupportedOperationError('libvirt', c.op, `${c.uri}: ${m}`)],
  [/Domain snapshot not found/i, (m, c, cause) => new NotFoundError('Snapshot', c.subject?.id ?? '?', m, { cause })],
  [/Secret not found|no secret with matching/i, (m, c, cause) => new NotFoundError('libvirt secret', c.subject?.id ?? '?', m, { cause })],
  [/Network not found/i, (m, c, cause) => new NotFoundError('libvirt network', c.subject?.id ?? '?', m, { cause })],
  [
    // virsh reports a lookup miss only as "failed to get domain 'x'" (no second line).
    /Domain not found|no domain with matching|failed to get domain '.*'\s*$/i,
    (m, c, cause) =>
      new NotFoundError(c.subject?.kind ?? 'Instance', c.subject?.id ?? '?', `libvirt at ${c.uri} has no such domain; list instances to see what exists`, { cause }),
  ],
  [/no target device|device not found|disk .* not found|No disk with target/i, (m, c, cause) => new NotFoundError('Device', c.subject?.id ?? '?', m, { cause })],
  [/Cannot access storage file|No such file or directory/i, (m, c, cause) => new NotFoundError('File', extractPath(m) ?? c.subject?.id ?? '?', m, { cause })],
  [
    /already exists with uuid|is already defined with uuid|already exists|target \S+ already exists|domain .* already active/i,
    (m, c, cause) => new ConflictError(`${c.op} conflicts with something that exists: ${m}.`, { op: c.op, libvirtMessage: m }, { cause }),
  ],
  [
    /Requested operation is not valid|not paused|not running|is already running|domain is already active|domain has a managed save|managed save image exists|domain is not active/i,
    (m, c, cause) => new InvalidStateError(`Cannot ${c.op} in the domain's current state: ${m}.`, { op: c.op, libvirtMessage: m }, { cause }),
  ],
  [
    /^Invalid UUID|XML error|invalid argument|unsupported configuration|XML document failed to validate|Expected |cannot parse/i,
    (m, c, cause) => new InvalidArgumentError(`input to ${c.op}`, c.subject?.id ?? m, `something libvirt accepts (${m})`, { cause }),
  ],
];

/** Maps a binding error, a virsh stderr text, or anything thrown during a transport call. */
export function mapLibvirtError(error: unknown, context: ErrorContext): VirtplugError {
  if (isVirtplugError(error)) return error;
  const message = libvirtMessage(error);
  for (const [pattern, make] of RULES) if (pattern.test(message)) return make(message, context, error);
  return new OperationFailedError(`libvirt ${context.op} failed on ${context.uri}: ${message}`, { op: context.op, uri: context.uri, libvirtMessage: message }, { cause: error });
}

/** virsh prints `error: failed to get domain 'x'` then `error: Domain not found: …`: keep the specific parts. */
export function libvirtMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : String(error);
  const lines = raw
    .split('\n')
    .map((l) => l.replace(/^error:\s*/i, '').trim())
    .filter((l) => l.length > 0 && !/^failed to (get|connect to the hypervisor)/i.test(l));
  return (lines.length ? lines : [raw.trim()]).join('; ');
}

function extractPath(message: string): string | undefined {
  return /'(\/[^']+)'/.exec(message)?.[1];
}
