import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidStateError, NotFoundError, OperationFailedError } from '@virtplug/core';
import type { Logger } from 'pino';
import type { BackendConnector } from '../backends/connector.js';
import type { ExportAcl, Exporter } from '../exports/port.js';
import { backendUrl, redactBackend, segmentKey, type AgentStatus, type BackendInfo, type BackendSpec, type ExportInfo, type Segment, type SegmentPortInfo } from '../model.js';
import type { SegmentSelector } from '../segments/select.js';
import { JsonFile } from '../util/json-file.js';
import { KeyedMutex } from '@virtplug/core';
import { parseCidr } from '../validate.js';
import { stableMac } from '../segments/iface.js';

interface BackendRecord extends BackendInfo {
  spec: BackendSpec; // password redacted; the secret lives in secretFile
  secretFile: string | null;
}
interface ExportRecord extends ExportInfo {
  pidFile: string;
  iface: string;
}
interface AgentState {
  backends: Record<string, BackendRecord>;
  exports: Record<string, ExportRecord>;
  ports: Record<string, SegmentPortInfo>;
}

export interface AgentServiceOptions {
  name: string;
  stateDir: string;
  portRange: [number, number];
  connector: BackendConnector;
  exporter: Exporter;
  acl: ExportAcl | null;
  segments: SegmentSelector;
  logger: Logger;
}

/**
 * The IOhyp host's privileged work, behind the agent's allow-list. Every operation is idempotent by
 * id, and its state is on disk, so a retried or replayed request, or an agent restart, never doubles
 * or loses an export, a backend or a port holder.
 */
export class AgentService {
  private readonly state: JsonFile<AgentState>;
  private readonly lock = new KeyedMutex();

  constructor(private readonly o: AgentServiceOptions) {
    mkdirSync(join(o.stateDir, 'secrets'), { recursive: true, mode: 0o700 });
    mkdirSync(join(o.stateDir, 'exports'), { recursive: true, mode: 0o700 });
    this.state = new JsonFile(join(o.stateDir, 'state.json'), () => ({ backends: {}, exports: {}, ports: {} }));
  }

  async status(): Promise<AgentStatus> {
    const s = this.state.read();
    return {
      agent: this.o.name,
      backends: Object.values(s.backends).map(({ spec: _s, secretFile: _f, ...info }) => info),
      exports: Object.values(s.exports).map(({ pidFile: _p, iface: _i, ...e }) => ({ ...e, alive: this.o.exporter.alive(e.pid) })),
      ports: Object.values(s.ports),
      segmentBackends: await this.o.segments.probeAll(),
    };
  }

  connectBackend(id: string, spec: BackendSpec): Promise<BackendInfo> {
    return this.lock.run('state', async () => {
      const existing = this.state.read().backends[id];
      if (existing) {
        const same = JSON.stringify(existing.spec) === JSON.stringify(redactBackend(spec)) && this.secretMatches(existing, spec);
        if (!same) throw new ConflictError(`Backend ${id} is already connected to ${existing.url}; disconnect it first.`, { id });
        return this.info(existing);
      }
      const secretFile = spec.type === 'iscsi' && spec.chap ? join(this.o.stateDir, 'secrets', `${id}.secret`) : null;
      if (secretFile && spec.type === 'iscsi' && spec.chap) writeFileSync(secretFile, spec.chap.password, { mode: 0o600 });
      try {
        const { sizeBytes, spec: resolved } = await this.o.connector.connect(spec, secretFile);
        const record: BackendRecord = {
          id,
          url: backendUrl(resolved),
          type: resolved.type,
          sizeBytes,
          chap: secretFile !== null,
          spec: redactBackend(resolved),
          secretFile,
        };
        this.state.update((s) => void (s.backends[id] = record));
        this.o.logger.info({ op: 'connect_backend', id, url: record.url, sizeBytes }, 'backend connected');
        return this.info(record);
      } catch (e) {
        if (secretFile) rmSync(secretFile, { force: true });
        throw e;
      }
    });
  }

  disconnectBackend(id: string): Promise<{ removed: boolean }> {
    return this.lock.run('state', async () => {
      const s = this.state.read();
      const b = s.backends[id];
      if (!b) return { removed: false };
      const user = Object.values(s.exports).find((e) => e.backendId === id);
      if (user) throw new ConflictError(`Backend ${id} is still exported as ${user.name} (export ${user.id}); remove the export first.`, { id, export: user.id });
      if (b.secretFile) rmSync(b.secretFile, { force: true });
      this.state.update((st) => void delete st.backends[id]);
      this.o.logger.info({ op: 'disconnect_backend', id }, 'backend disconnected');
      return { removed: true };
    });
  }

  ensureSegmentPort(segment: Segment, address: string, holder: string): Promise<SegmentPortInfo> {
    return this.lock.run('state', async () => {
      const key = segmentKey(segment);
      const current = this.state.read().ports[key];
      if (current && current.address !== address && current.holders.some((h) => h !== holder)) {
        throw new ConflictError(
          `Segment ${key} already has address ${current.address} here (held by ${current.holders.length} export(s)); requested ${address}.`,
          { segment: key, address: current.address },
        );
      }
      const adapter = current ? this.o.segments.byName(current.backend) ?? (await this.o.segments.select(segment.type)) : await this.o.segments.select(segment.type);
      const { iface } = await adapter.ensure(segment, address, stableMac(`${this.o.name}/${key}`));
      const holders = [...new Set([...(current?.holders ?? []), holder])];
      const port: SegmentPortInfo = { segment, iface, address, backend: adapter.name, holders };
      this.state.update((s) => void (s.ports[key] = port));
      this.o.logger.info({ op: 'ensure_segment_port', segment: key, iface, holders: holders.length }, 'segment port ready');
      return port;
    });
  }

  releaseSegmentPort(segment: Segment, holder: string): Promise<{ removed: boolean; holders: number }> {
    return this.lock.run('state', async () => {
      const key = segmentKey(segment);
      const current = this.state.read().ports[key];
      if (!current) return { removed: false, holders: 0 };
      const holders = current.holders.filter((h) => h !== holder);
      if (holders.length > 0) {
        this.state.update((s) => void (s.ports[key] = { ...current, holders }));
        return { removed: false, holders: holders.length };
      }
      const inUse = Object.values(this.state.read().exports).find((e) => segmentKey(e.segment) === key);
      if (inUse) throw new ConflictError(`Segment ${key} still carries export ${inUse.id}; remove it first.`, { segment: key });
      const adapter = this.o.segments.byName(current.backend);
      if (!adapter) throw new InvalidStateError(`Segment ${key} was made by adapter ${current.backend}, which this agent no longer has.`);
      await adapter.remove(segment);
      this.state.update((s) => void delete s.ports[key]);
      this.o.logger.info({ op: 'release_segment_port', segment: key, iface: current.iface }, 'segment port removed');
      return { removed: true, holders: 0 };
    });
  }

  createExport(id: string, backendId: string, segment: Segment, name: string, allow: string[] | null): Promise<ExportInfo> {
    return this.lock.run('state', async () => {
      const s = this.state.read();
      const existing = s.exports[id];
      if (existing && this.o.exporter.alive(existing.pid)) return this.exportInfo(existing);
      if (existing) await this.teardownExport(existing); // died: rebuild it from the same request
      const backend = s.backends[backendId];
      if (!backend) throw new NotFoundError('Backend', backendId, 'connect it first (connect_backend)');
      const port = s.ports[segmentKey(segment)];
      if (!port) throw new NotFoundError('Segment port', segmentKey(segment), 'ensure it first (ensure_segment_port)');
      const host = parseCidr(port.address)!.ip;
      const pidFile = join(this.o.stateDir, 'exports', `${id}.pid`);
      const taken = new Set(Object.values(s.exports).map((e) => e.port));
      let lastError: unknown;
      for (let p = this.o.portRange[0], tries = 0; p <= this.o.portRange[1] && tries < 5; p++) {
        if (taken.has(p)) continue;
        tries++;
        // The ACL goes first, so there is no moment in which the export is open to the whole segment.
        if (allow && this.o.acl) await this.o.acl.allow(id, p, port.iface, allow);
        try {
          const { pid } = await this.o.exporter.start({ id, spec: backend.spec, secretFile: backend.secretFile, host, port: p, name, pidFile });
          const record: ExportRecord = { id, backendId, segment, host, port: p, name, allow, exporter: this.o.exporter.name, pid, pidFile, iface: port.iface };
          this.state.update((st) => void (st.exports[id] = record));
          this.o.logger.info({ op: 'iohyp_create_blk_device', id, host, port: p, name }, 'export created');
          return this.exportInfo(record);
        } catch (e) {
          lastError = e;
          if (allow && this.o.acl) await this.o.acl.revoke(id, p);
          if (!/in use/i.test((e as Error).message)) throw e;
        }
      }
      throw new OperationFailedError(`No free NBD port in ${this.o.portRange.join('-')} on ${host}: ${(lastError as Error | undefined)?.message ?? 'range exhausted'}`, {
        range: this.o.portRange,
      });
    });
  }

  removeExport(id: string): Promise<{ removed: boolean }> {
    return this.lock.run('state', async () => {
      const existing = this.state.read().exports[id];
      if (!existing) return { removed: false };
      await this.teardownExport(existing);
      this.o.logger.info({ op: 'iohyp_remove_blk_device', id, port: existing.port }, 'export removed');
      return { removed: true };
    });
  }

  private async teardownExport(e: ExportRecord): Promise<void> {
    await this.o.exporter.stop(e.pid, e.pidFile);
    if (e.allow && this.o.acl) await this.o.acl.revoke(e.id, e.port);
    this.state.update((s) => void delete s.exports[e.id]);
  }

  private secretMatches(b: BackendRecord, spec: BackendSpec): boolean {
    const wanted = spec.type === 'iscsi' && spec.chap ? spec.chap.password : null;
    if (!b.secretFile || wanted === null) return !b.secretFile && wanted === null;
    try {
      return readFileSync(b.secretFile, 'utf8') === wanted;
    } catch {
      return false;
    }
  }

  private info(b: BackendRecord): BackendInfo {
    return { id: b.id, url: b.url, type: b.type, sizeBytes: b.sizeBytes, chap: b.chap };
  }

  private exportInfo(e: ExportRecord): ExportInfo {
    const { pidFile: _p, iface: _i, ...info } = e;
    return { ...info, alive: this.o.exporter.alive(e.pid) };
  }
}
