import {
  ConflictError,
  HypervisorUnavailableError,
  InvalidStateError,
  LockedError,
  OperationFailedError,
  TransientError,
  httpRequest,
  readBody,
  readCaFile,
  type HttpRequestError,
  type VirtplugError,
} from '@virtplug/core';
import type { AgentStatus, BackendInfo, BackendSpec, ExportInfo, Segment, SegmentPortInfo } from '../model.js';
import type { Logger } from 'pino';
import type { RouterSettings } from '../config.js';
import type { OperationName } from './operations.js';
import type { AgentService } from './service.js';

/** What the router needs from an IOhyp agent; the HTTP client and the in-process one both provide it. */
export interface IoHypAgentApi {
  readonly name: string;
  status(): Promise<AgentStatus>;
  connectBackend(id: string, backend: BackendSpec): Promise<BackendInfo>;
  disconnectBackend(id: string): Promise<{ removed: boolean }>;
  ensureSegmentPort(segment: Segment, address: string, holder: string): Promise<SegmentPortInfo>;
  releaseSegmentPort(segment: Segment, holder: string): Promise<{ removed: boolean; holders: number }>;
  createExport(req: { id: string; backendId: string; segment: Segment; name: string; allow: string[] | null }): Promise<ExportInfo>;
  removeExport(id: string): Promise<{ removed: boolean }>;
}

export interface AgentTls {
  /** PEM CA bundle that signed the agents' certificates ([iohyp] tls_ca_file); default: system CAs. */
  ca?: string;
}

/**
 * The router's side of the agent protocol (see server.ts). The token goes in a header, nowhere else;
 * with an https URL the agent's certificate is verified, so the token and CHAP secrets never cross the
 * management network in clear.
 */
export class HttpAgentClient implements IoHypAgentApi {
  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 60_000,
    private readonly tls: AgentTls = {},
  ) {}

  status() {
    return this.call<AgentStatus>('status', {});
  }
  connectBackend(id: string, backend: BackendSpec) {
    return this.call<BackendInfo>('connect_backend', { id, backend });
  }
  disconnectBackend(id: string) {
    return this.call<{ removed: boolean }>('disconnect_backend', { id });
  }
  ensureSegmentPort(segment: Segment, address: string, holder: string) {
    return this.call<SegmentPortInfo>('ensure_segment_port', { segment, address, holder });
  }
  releaseSegmentPort(segment: Segment, holder: string) {
    return this.call<{ removed: boolean; holders: number }>('release_segment_port', { segment, holder });
  }
  createExport(req: { id: string; backendId: string; segment: Segment; name: string; allow: string[] | null }) {
    return this.call<ExportInfo>('iohyp_create_blk_device', req);
  }
  removeExport(id: string) {
    return this.call<{ removed: boolean }>('iohyp_remove_blk_device', { id });
  }

  private async call<T>(op: OperationName, body: unknown): Promise<T> {
    const url = `${this.baseUrl}/v1/ops/${op}`;
    let res: { status: number; body: string };
    try {
      const r = await httpRequest(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.token}` },
        body: JSON.stringify(body),
        timeoutMs: this.timeoutMs,
        ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      });
      res = { status: r.statusCode ?? 0, body: (await readBody(r)).toString('utf8') };
    } catch (e) {
      const err = e as HttpRequestError;
      if (err.tls) {
        throw new HypervisorUnavailableError(
          `IOhyp agent ${this.name} at ${this.baseUrl}: TLS failed (${err.code}: ${err.message}); its certificate must be signed by the CA in [iohyp] tls_ca_file and name the agent's address.`,
          { agent: this.name, op, tlsError: err.code },
          { cause: e },
        );
      }
      throw new TransientError(`IOhyp agent ${this.name} at ${this.baseUrl} did not answer ${op} (${err.code ?? (e as Error).name}); check that virtplug-iohyp-agent runs there.`, {
        agent: this.name,
        op,
      }, { cause: e });
    }
    let payload: { ok?: boolean; result?: T; error?: { code?: string; message?: string; details?: Record<string, unknown> } } = {};
    try {
      payload = JSON.parse(res.body) as typeof payload;
    } catch {
      // not JSON (a proxy's error page, a plain HTTP answer): reported by status below
    }
    if (res.status >= 200 && res.status < 300 && payload.ok) return payload.result as T;
    throw remoteError(this.name, op, res.status, payload.error);
  }
}

/**
 * HTTP clients for the configured agents, sharing one token and the CA from [iohyp] tls_ca_file. An
 * http:// agent off loopback is allowed (labs, a trusted management VLAN) but logged as a warning,
 * because its token and CHAP secrets cross the wire in clear.
 */
export function agentClients(
  settings: Pick<RouterSettings, 'agents' | 'tlsCaFile' | 'requestTimeoutMs'>,
  token: string,
  options: { timeoutMs?: number; logger?: Logger } = {},
): Map<string, HttpAgentClient> {
  const ca = readCaFile('iohyp', settings.tlsCaFile);
  return new Map(
    settings.agents.map((a) => {
      const host = new URL(a.url).hostname;
      if (a.url.startsWith('http:') && !['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
        options.logger?.warn({ agent: a.name, url: a.url }, 'IOhyp agent over plain HTTP: token and CHAP secrets cross the network in clear; set tls_cert_file/tls_key_file on the agent and use https');
      }
      return [a.name, new HttpAgentClient(a.name, a.url, token, options.timeoutMs ?? settings.requestTimeoutMs, ca ? { ca } : {})];
    }),
  );
}

/** Maps an agent's error answer onto core error types, keeping the agent's message and code. */
function remoteError(agent: string, op: string, status: number, err?: { code?: string; message?: string; details?: Record<string, unknown> }): VirtplugError {
  const message = `IOhyp agent ${agent}: ${op}: ${err?.message ?? `HTTP ${status}`}`;
  const details = { agent, op, httpStatus: status, remoteCode: err?.code, ...(err?.details ?? {}) };
  switch (status === 401 ? 'unauthorized' : err?.code) {
    case 'unauthorized':
      return new HypervisorUnavailableError(`${message} Check that [iohyp] token_file holds the same token on both sides.`, details);
    case 'conflict':
      return new ConflictError(message, details);
    case 'invalid_state':
      return new InvalidStateError(message, details);
    case 'locked':
      return new LockedError(message, details);
    case 'transient':
    case 'timeout':
      return new TransientError(message, details);
    case 'hypervisor_unavailable':
      return new HypervisorUnavailableError(message, details);
    default:
      return new OperationFailedError(message, details);
  }
}

/** The agent in the same process: unit tests, and a router co-located with its IOhyp. */
export class LocalAgentClient implements IoHypAgentApi {
  constructor(
    readonly name: string,
    private readonly service: AgentService,
  ) {}
  status() {
    return this.service.status();
  }
  connectBackend(id: string, backend: BackendSpec) {
    return this.service.connectBackend(id, backend);
  }
  disconnectBackend(id: string) {
    return this.service.disconnectBackend(id);
  }
  ensureSegmentPort(segment: Segment, address: string, holder: string) {
    return this.service.ensureSegmentPort(segment, address, holder);
  }
  releaseSegmentPort(segment: Segment, holder: string) {
    return this.service.releaseSegmentPort(segment, holder);
  }
  createExport(req: { id: string; backendId: string; segment: Segment; name: string; allow: string[] | null }) {
    return this.service.createExport(req.id, req.backendId, req.segment, req.name, req.allow);
  }
  removeExport(id: string) {
    return this.service.removeExport(id);
  }
}
