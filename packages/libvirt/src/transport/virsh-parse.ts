import { DomainState, type DomainInfo, type NodeInfo, type Versions } from './port.js';

/** Parsers for virsh's human output (run with LC_ALL=C, so labels are English). One function per shape. */

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return out;
}

/** virsh's words for domain states (`domstate`, `dominfo`), as libvirt prints them. */
const STATE_WORDS: Record<string, DomainState> = {
  'no state': DomainState.NOSTATE,
  running: DomainState.RUNNING,
  idle: DomainState.BLOCKED,
  blocked: DomainState.BLOCKED,
  paused: DomainState.PAUSED,
  'in shutdown': DomainState.SHUTDOWN,
  'shut off': DomainState.SHUTOFF,
  crashed: DomainState.CRASHED,
  pmsuspended: DomainState.PMSUSPENDED,
};

/** `virsh dominfo`: memory in KiB, CPU time in seconds with one decimal. */
export function parseDominfo(text: string): DomainInfo & { uuid: string; name: string } {
  const f = fields(text);
  const state = STATE_WORDS[(f.get('state') ?? '').toLowerCase()];
  if (state === undefined) throw new Error(`unexpected virsh dominfo output (no known State): ${text.slice(0, 200)}`);
  const kib = (k: string) => Number((f.get(k) ?? '0').replace(/\s*KiB$/, '')) || 0;
  const cpuSec = Number((f.get('cpu time') ?? '0s').replace(/s$/, '')) || 0;
  return {
    uuid: f.get('uuid') ?? '',
    name: f.get('name') ?? '',
    state,
    maxMemKb: kib('max memory'),
    memKb: kib('used memory'),
    vcpus: Number(f.get('cpu(s)') ?? '0'),
    cpuTimeNs: Math.round(cpuSec * 1e9),
  };
}

export function parseNodeinfo(text: string): NodeInfo {
  const f = fields(text);
  const n = (k: string) => Number((f.get(k) ?? '0').replace(/\s*(KiB|MHz)$/, '')) || 0;
  return {
    model: f.get('cpu model') ?? '',
    memoryKb: n('memory size'),
    cpus: n('cpu(s)'),
    mhz: n('cpu frequency'),
    sockets: n('cpu socket(s)'),
    cores: n('core(s) per socket'),
    threads: n('thread(s) per core'),
  };
}

/** `virsh version`: "Using library: libvirt 9.0.0", "Running hypervisor: QEMU 7.2.22". */
export function parseVersion(text: string): Versions {
  const lib = /Using library:\s*libvirt\s+(\S+)/.exec(text)?.[1] ?? 'unknown';
  const hv = /Running hypervisor:\s*(\S+)\s+(\S+)/.exec(text);
  return { libvirt: lib, hypervisorType: hv?.[1] ?? 'unknown', hypervisorVersion: hv?.[2] ?? 'unknown' };
}

/** `virsh list --all --uuid --name`: "uuid name" per line (names may contain spaces). */
export function parseUuidNameList(text: string): Array<{ uuid: string; name: string }> {
  const out: Array<{ uuid: string; name: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+(.*)$/i.exec(line.trim());
    if (m) out.push({ uuid: m[1]!, name: m[2]! });
  }
  return out;
}

export function parseUuidList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[0-9a-f-]{36}$/i.test(l));
}

/** `virsh domstats`: indented key=value lines. */
export function parseDomstats(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `virsh secret-list`: " UUID   Usage" table; usage is "iscsi NAME". */
export function parseSecretList(text: string): Array<{ uuid: string; usage: string }> {
  const out: Array<{ uuid: string; usage: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]{8}-[0-9a-f-]{27})\s+(?:\S+\s+)?(.*)$/i.exec(line);
    if (m) out.push({ uuid: m[1]!, usage: m[2]!.trim() });
  }
  return out;
}

/** `virsh secret-define`: "Secret 8007b6d8-… created". */
export function parseSecretDefine(text: string): string {
  const m = /Secret\s+([0-9a-f-]{36})\s+created/i.exec(text);
  if (!m) throw new Error(`unexpected virsh secret-define output: ${text.slice(0, 200)}`);
  return m[1]!;
}
