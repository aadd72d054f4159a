/**
 * Handoff wire protocol (docs/cloudlet-format.md §7), HTTP with a Bearer token:
 *   GET  /v1/handoff/hello                    → 200 HelloReply (nothing changes on either side)
 *   POST /v1/handoff?name=N&base=ID           body: a residue → 200 AcceptReply (one round)
 *   POST /v1/handoff/prepare?name=N&base=ID   body: residue of a capture taken while the VM ran
 *                                             → 200 PrepareReply (rebuilt, not launched)   [v2]
 *   POST /v1/handoff/commit?session=S         body: residue against that capture (parent_sha256)
 *                                             → 200 AcceptReply                            [v2]
 *   DELETE /v1/handoff/session?session=S      drops a prepared handoff                     [v2]
 * AcceptReply comes once the destination instance runs and its agent answered: the confirmation
 * the source waits for. Errors: 401 (token), 404 (base or session missing), 409 (busy /
 * incompatible), 400 (bad overlay), 500.
 */
export const HANDOFF_VERSION = 2;

export interface HelloReply {
  version: number;
  bases: string[];
  machine: { machineType: string; qemuVersion: string; cpuModel: string; virtType: string };
}

export interface AcceptReply {
  instance: { uuid: string; name: string };
  timings: { rebuild_ms: number; restore_ms: number; agent_ms: number; total_ms: number };
  received_bytes: number;
}

export interface PrepareReply {
  session: string;
  received_bytes: number;
}

export interface ErrorReply {
  error: { code: string; message: string };
}

export function statusForCode(code: string | undefined): number {
  switch (code) {
    case 'invalid_argument':
      return 400;
    case 'not_found':
      return 404;
    case 'invalid_state':
    case 'conflict':
    case 'locked':
      return 409;
    default:
      return 500;
  }
}
