import { OperationFailedError, type ProbeResult } from '@virtplug/core';
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentService } from '../agent/service.js';
import type { BackendConnector } from '../backends/connector.js';
import type { ExportAcl, ExportRequest, Exporter } from '../exports/port.js';
import { segmentKey, type BackendSpec, type Segment, type SegmentKind } from '../model.js';
import type { SegmentAdapter } from '../segments/port.js';
import { SegmentSelector } from '../segments/select.js';

/** In-memory adapters: the agent's logic with nothing real underneath, for unit tests. */
export class MemorySegments implements SegmentAdapter {
  readonly ports = new Map<string, string>(); // segment -> address
  constructor(
    readonly name: 'ovs' | 'vxlan' = 'ovs',
    public usable = true,
  ) {}
  supports(kind: SegmentKind) {
    return this.name === 'ovs' ? kind === 'vlan' : kind === 'vxlan';
  }
  async probe(): Promise<ProbeResult> {
    return this.usable ? { usable: true, reason: 'in memory' } : { usable: false, reason: 'disabled for the test' };
  }
  async ensure(segment: Segment, address: string) {
    this.ports.set(segmentKey(segment), address);
    return { iface: `mem${segment.id}` };
  }
  async remove(segment: Segment) {
    this.ports.delete(segmentKey(segment));
  }
  async exists(segment: Segment) {
    return this.ports.has(segmentKey(segment));
  }
}

export class MemoryExporter implements Exporter {
  readonly name = 'memory';
  readonly running = new Map<number, ExportRequest>();
  private nextPid = 100_000;
  async start(req: ExportRequest) {
    if ([...this.running.values()].some((r) => r.port === req.port)) throw new OperationFailedError(`port ${req.port}: Address already in use`);
    const pid = this.nextPid++;
    this.running.set(pid, req);
    return { pid };
  }
  async stop(pid: number) {
    this.running.delete(pid);
  }
  alive(pid: number) {
    return this.running.has(pid);
  }
}

export class MemoryConnector implements BackendConnector {
  readonly connected: BackendSpec[] = [];
  async connect(spec: BackendSpec) {
    if (spec.type === 'iscsi' && spec.iqn.endsWith(':missing')) throw new OperationFailedError(`iSCSI: target ${spec.iqn} not found`);
    this.connected.push(spec);
    return { sizeBytes: 64 << 20, spec };
  }
}

export class MemoryAcl implements ExportAcl {
  readonly rules = new Map<number, { exportId: string; iface: string; allow: readonly string[] }>();
  async allow(exportId: string, port: number, iface: string, allow: readonly string[]) {
    this.rules.set(port, { exportId, iface, allow });
  }
  async revoke(_id: string, port: number) {
    this.rules.delete(port);
  }
  async ports() {
    return [...this.rules.keys()];
  }
}

export interface MemoryAgent {
  service: AgentService;
  segments: MemorySegments;
  vxlan: MemorySegments;
  exporter: MemoryExporter;
  connector: MemoryConnector;
  acl: MemoryAcl;
  stateDir: string;
}

/** Temp dirs made by the unit-test helpers; `removeTempDirs()` (in afterAll) deletes them. */
const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function memoryAgent(name = 'hyp1', stateDir = tempDir('vp-io-agent-')): MemoryAgent {
  const segments = new MemorySegments('ovs');
  const vxlan = new MemorySegments('vxlan');
  const exporter = new MemoryExporter();
  const connector = new MemoryConnector();
  const acl = new MemoryAcl();
  const service = new AgentService({
    name,
    stateDir,
    portRange: [10900, 10910],
    connector,
    exporter,
    acl,
    segments: new SegmentSelector([segments, vxlan], 'auto'),
    logger: pino({ level: 'silent' }),
  });
  return { service, segments, vxlan, exporter, connector, acl, stateDir };
}
