/**
 * `npm run bench -- iohyp [--segment vxlan300|vlan100] [--rounds N]`: the same iSCSI volume read both ways
 * from the compute host, side by side in one run — directly (QEMU's libiscsi -> tgtd) and through the
 * IOhyp chain (QEMU NBD -> qemu-storage-daemon on the tenant segment -> libiscsi -> tgtd) — plus the
 * routed attach/detach time of a real io:enabled=1 libvirt guest. Prints one JSON object on stdout; the
 * breakdown of where the extra latency goes is printed on stderr (docs/iohyp.md "Performance").
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { hasGuestAgent, loadConfigFile, loadDriver, type Instance, type IscsiConnectionInfo } from '@virtplug/core';
import { HttpAgentClient, IoHypRouter, guestImageFrom, LAB_FACTS } from '@virtplug/iohyp';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const SEGMENT = arg('segment', 'vxlan300');
const OTHER = SEGMENT === 'vxlan300' ? 'vlan100' : 'vxlan300';
const ROUNDS = Number(arg('rounds', '3'));
const QD1_COUNT = 4000;
const QD16_COUNT = 30000;
const REPO = new URL('../../', import.meta.url).pathname;
const log = (s: string) => process.stderr.write(`[bench iohyp] ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** CPU seconds of the chain's processes and of the whole machine, for CPU-per-op accounting. */
interface CpuSample { client: number; exporter: number; tgtd: number; softirq: number; busy: number; total: number }
const HZ = 100; // USER_HZ: /proc/<pid>/stat and /proc/stat count in 1/100 s on Linux
const procCpu = (pid: number | undefined): number => {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ; // utime + stime, all threads
  } catch {
    return 0;
  }
};
const machineCpu = (): number[] => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map((x) => Number(x) / HZ);
/** pids whose CPU is charged per run: the export daemon on the IOhyp and tgtd on the storage host. */
const chainPids: { exporter?: number; tgtd?: number } = {};
const HAVE_TIME = existsSync('/usr/bin/time');
const cpuRuns: Record<string, CpuSample[]> = {};

/**
 * One qemu-img bench run: 4 KiB reads at `depth`; returns seconds. `ns` runs it in a namespace. With
 * `tag`, the CPU the run cost (client via /usr/bin/time, exporter and tgtd from /proc, machine from
 * /proc/stat) is recorded under it.
 */
async function bench(url: string, depth: number, count: number, ns?: string, tag?: string): Promise<number> {
  const argv = ['bench', '-f', 'raw', '-c', String(count), '-d', String(depth), '-s', '4096', '-t', 'none', url];
  const cmd = [...(ns ? ['ip', 'netns', 'exec', ns] : []), ...(tag && HAVE_TIME ? ['/usr/bin/time', '-f', 'CPU %U %S'] : []), 'qemu-img', ...argv];
  const [e0, t0, m0] = [procCpu(chainPids.exporter), procCpu(chainPids.tgtd), machineCpu()];
  const r = await execa(cmd[0]!, cmd.slice(1), { reject: false, timeout: 300_000 });
  const m = /Run completed in ([\d.]+) seconds/.exec(r.stdout);
  if (!m) throw new Error(`qemu-img bench ${url} (depth ${depth}) failed: ${r.stderr || r.stdout}`);
  if (tag) {
    const m1 = machineCpu();
    const d = m1.map((x, i) => x - m0[i]!);
    const c = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    (cpuRuns[tag] ??= []).push({
      client: c ? Number(c[1]) + Number(c[2]) : NaN,
      exporter: procCpu(chainPids.exporter) - e0,
      tgtd: procCpu(chainPids.tgtd) - t0,
      softirq: d[6]!,
      busy: d.reduce((a, b) => a + b, 0) - d[3]! - d[4]!,
      total: d.reduce((a, b) => a + b, 0),
    });
  }
  return Number(m[1]);
}
const qd1Us = async (url: string, ns?: string, tag?: string) => ((await bench(url, 1, QD1_COUNT, ns, tag)) * 1e6) / QD1_COUNT;
const qd16Iops = async (url: string, ns?: string, tag?: string) => QD16_COUNT / (await bench(url, 16, QD16_COUNT, ns, tag));

/** Median CPU microseconds per I/O of each part of the chain over the runs recorded under `tag`. */
function cpuPerIo(tag: string, ios: number) {
  const runs = cpuRuns[tag] ?? [];
  const med = (f: (c: CpuSample) => number) => (runs.length ? round((median(runs.map(f)) * 1e6) / ios, 1) : NaN);
  const chain = (c: CpuSample) => c.client + c.exporter + c.tgtd;
  return {
    client: med((c) => c.client),
    exporter: med((c) => c.exporter),
    tgtd: med((c) => c.tgtd),
    softirq: med((c) => c.softirq),
    chain: med(chain),
    /** CPU of everything else on the machine meanwhile (other guests, the agent, switches): noise. */
    other: med((c) => Math.max(0, c.busy - chain(c))),
    idlePct: runs.length ? round(100 - (100 * median(runs.map((c) => c.busy / c.total))), 0) : NaN,
  };
}

async function labStatus(): Promise<boolean> {
  return (await execa('bash', [`${REPO}tools/lab/iohyp.sh`, 'status'], { reject: false })).exitCode === 0;
}

async function main(): Promise<void> {
  const startedLab = !(await labStatus());
  if (startedLab) {
    log('starting the lab (tools/lab/iohyp.sh up)');
    const up = await execa('bash', [`${REPO}tools/lab/iohyp.sh`, 'up'], { reject: false, all: true });
    if (up.exitCode !== 0) throw new Error(`lab up failed: ${up.all}`);
  }
  const facts = JSON.parse(readFileSync(LAB_FACTS, 'utf8'));
  const router = (await loadDriver(loadConfigFile(facts.config))) as IoHypRouter;
  const seg = facts.segments[SEGMENT];
  const iqn = `${facts.storage.iqnPrefix}:vol2`;
  const direct = `iscsi://${facts.storage.portal}/${iqn}/1`;
  const vm: Instance = {
    uuid: randomUUID(),
    name: `vp-io-bench-${randomUUID().slice(0, 6)}`,
    flavor: { name: 'io.tiny', memoryMb: 256, vcpus: 1, rootGb: 1, extraSpecs: { 'io:enabled': '1' } },
    networkInfo: [{ id: 'vp-io-bench-port', address: '52:54:00:88:0b:01', fixedIps: [seg.guestAddress.split('/')[0]], network: { id: `vp-io-net-${SEGMENT}`, label: SEGMENT, segmentType: seg.type, segmentationId: seg.id, bridge: seg.bridge, cidr: seg.cidr } }],
  };
  const ci: IscsiConnectionInfo = { driverVolumeType: 'iscsi', volumeId: 'vpio-bench', data: { targetPortal: facts.storage.portal, targetIqn: iqn, targetLun: 1 } };
  const diag: string[] = [];
  try {
    await router.spawn(vm, guestImageFrom(process.env.VIRTPLUG_GUEST_IMAGE_DIR ?? '/var/lib/virtplug/guest-image'));
    if (!hasGuestAgent(router)) throw new Error('the wrapped driver has no guest agent access (needs libvirt)');
    await router.guestAgent(vm).waitReady(120_000);
    // attach/detach: the whole routed sequence including libvirt's hot-plug into the running guest
    const attachMs: number[] = [];
    const detachMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      await router.attachVolume(vm, ci, '/dev/vdb');
      attachMs.push(performance.now() - t);
      t = performance.now();
      await router.detachVolume(vm, ci, '/dev/vdb');
      detachMs.push(performance.now() - t);
    }
    const route = await router.attachRouted(vm, ci, '/dev/vdb');
    const nbd = `nbd://${route.export!.host}:${route.export!.port}/${route.export!.name}`;
    // The guest is not what is measured: pause it so its TCG vCPU does not take a core from the chain.
    await router.pause(vm);
    const agent = new HttpAgentClient('hyp1', facts.agent.url, readFileSync(facts.agent.tokenFile, 'utf8').trim(), 60_000, { ca: readFileSync(facts.agent.caFile, 'utf8') });
    chainPids.exporter = (await agent.status()).exports.find((e) => e.id === route.export!.id)?.pid;
    chainPids.tgtd = Number(readFileSync(`${facts.run}/tgtd.pid`, 'utf8'));
    const d1: number[] = [], i1: number[] = [], d16: number[] = [], i16: number[] = [];
    await bench(direct, 1, 500); // warm both paths (sessions, ARP, caches)
    await bench(nbd, 1, 500);
    for (let r = 0; r < ROUNDS; r++) {
      d1.push(await qd1Us(direct, undefined, 'direct1'));
      i1.push(await qd1Us(nbd, undefined, 'iohyp1'));
      d16.push(await qd16Iops(direct, undefined, 'direct16'));
      i16.push(await qd16Iops(nbd, undefined, 'iohyp16'));
      log(`round ${r + 1}: direct ${round(d1.at(-1)!, 0)} us / ${round(d16.at(-1)!, 0)} IOPS; iohyp ${round(i1.at(-1)!, 0)} us / ${round(i16.at(-1)!, 0)} IOPS`);
    }
    cpuTable(diag);
    await breakdown(facts, route.export!, diag).catch((e: unknown) => diag.push(`breakdown failed: ${(e as Error).message}`));
    await router.unpause(vm);
    await router.detachVolume(vm, ci, '/dev/vdb');
    const result = {
      direct_qd1_lat_us: round(median(d1), 1),
      iohyp_qd1_lat_us: round(median(i1), 1),
      latency_ratio: round(median(i1) / median(d1)),
      direct_iops_qd16: Math.round(median(d16)),
      iohyp_iops_qd16: Math.round(median(i16)),
      iops_ratio: round(median(i16) / median(d16)),
      attach_ms: round(median(attachMs), 1),
      detach_ms: round(median(detachMs), 1),
      // CPU microseconds per 4 KiB read at QD16 summed over the chain's processes (client + exporter +
      // tgtd): on 2 shared cores the QD16 ratio is bounded by the ratio of these two.
      direct_cpu_us_per_io_qd16: cpuPerIo('direct16', QD16_COUNT).chain,
      iohyp_cpu_us_per_io_qd16: cpuPerIo('iohyp16', QD16_COUNT).chain,
      exporter_cpu_us_per_io_qd16: cpuPerIo('iohyp16', QD16_COUNT).exporter,
      other_load_cpus: round(cpuPerIo('iohyp16', QD16_COUNT).other / (1e6 / median(i16)), 2),
    };
    for (const line of diag) log(line);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await router.destroy(vm).catch((e: unknown) => log(`destroy: ${(e as Error).message}`));
    await router.close();
    if (startedLab) await execa('bash', [`${REPO}tools/lab/iohyp.sh`, 'down'], { reject: false });
  }
}

/** CPU per I/O of each process in both chains (docs/iohyp.md "Performance"), one line per path and depth. */
function cpuTable(out: string[]): void {
  out.push(`CPU us per 4 KiB read (median of ${ROUNDS} rounds; client = qemu-img incl. its kernel time, softirq = part of all columns, other = the rest of the machine meanwhile)${HAVE_TIME ? '' : '; /usr/bin/time missing: no client column'}:`);
  for (const [tag, ios, label] of [['direct1', QD1_COUNT, 'direct QD1 '], ['iohyp1', QD1_COUNT, 'iohyp  QD1 '], ['direct16', QD16_COUNT, 'direct QD16'], ['iohyp16', QD16_COUNT, 'iohyp  QD16']] as const) {
    const c = cpuPerIo(tag, ios);
    const exp = tag.startsWith('iohyp') ? ` exporter ${c.exporter}` : '';
    out.push(`  ${label}: client ${c.client}${exp} tgtd ${c.tgtd} = chain ${c.chain} | softirq ${c.softirq} other ${c.other} idle ${c.idlePct}%`);
  }
}

/**
 * Where the extra latency goes: the NBD hop alone (a null device exported on the same segment, on a
 * plain veth, on the other segment type), the IOhyp's own iSCSI hop, and the cost of Nagle when the
 * initiator delays its ACKs (QEMU 7.2's NBD server does not set TCP_NODELAY).
 */
async function breakdown(facts: any, exp: { host: string; port: number }, out: string[]): Promise<void> {
  const hyp = facts.namespaces.iohyp;
  const agent = new HttpAgentClient('hyp1', facts.agent.url, readFileSync(facts.agent.tokenFile, 'utf8').trim(), 60_000, { ca: readFileSync(facts.agent.caFile, 'utf8') });
  const iqn = `${facts.storage.iqnPrefix}:vol2`;
  out.push(`IOhyp's own iSCSI hop (qemu-img in the IOhyp namespace): QD1 ${round(await qd1Us(`iscsi://${facts.storage.portal}/${iqn}/1`, hyp), 0)} us`);
  const nulls: Array<{ pid: number; label: string; url: string }> = [];
  const startNull = async (host: string, port: number, label: string) => {
    const pidFile = `/run/vp-io-lab/bench-null-${port}.pid`;
    await execa('ip', ['netns', 'exec', hyp, 'qemu-storage-daemon', '--daemonize', '--pidfile', pidFile,
      '--blockdev', JSON.stringify({ driver: 'null-co', 'node-name': 'n', size: 64 << 20, 'read-zeroes': true }),
      '--nbd-server', JSON.stringify({ addr: { type: 'inet', host, port: String(port) } }),
      '--export', JSON.stringify({ type: 'nbd', id: 'e', 'node-name': 'n', name: 'null' })]);
    nulls.push({ pid: Number(readFileSync(pidFile, 'utf8')), label, url: `nbd://${host}:${port}/null` });
  };
  // A second route's segment port for the other segment type, through the agent itself.
  const other = facts.segments[OTHER];
  await agent.ensureSegmentPort({ type: other.type, id: other.id }, `${other.iohypAddress}/24`, 'bench-diag');
  try {
    await startNull(exp.host, 10990, `NBD hop alone on the measured segment (${SEGMENT})`);
    await startNull(other.iohypAddress, 10991, `NBD hop alone on ${OTHER} (${other.type === 'vlan' ? 'OVS userspace datapath, 2 switches' : 'kernel VXLAN'})`);
    await startNull('10.88.0.1', 10992, 'NBD hop alone on a plain veth (no switch; this route keeps delayed ACKs, so QD16 shows Nagle)');
    for (const n of nulls) out.push(`${n.label}: QD1 ${round(await qd1Us(n.url), 0)} us, QD16 ${Math.round(await qd16Iops(n.url))} IOPS`);
    // Nagle: the same null export with the initiator's delayed ACKs back on (the lab sets quickack).
    const route = (await execa('ip', ['-4', 'route', 'show', 'match', exp.host])).stdout.split('\n').find((l) => l.includes('quickack'));
    if (route) {
      const plain = route.replace(/\s*quickack 1/, '').trim().split(/\s+/);
      await execa('ip', ['route', 'change', ...plain]);
      try {
        const slow = QD16_COUNT / 10 / (await bench(nulls[0]!.url, 16, QD16_COUNT / 10));
        out.push(`same null export at QD16 without quickack on the initiator route (Nagle vs delayed ACK): ${Math.round(slow)} IOPS`);
      } finally {
        await execa('ip', ['route', 'change', ...route.trim().split(/\s+/)]);
      }
    }
  } finally {
    for (const n of nulls) await execa('kill', [String(n.pid)], { reject: false });
    await agent.releaseSegmentPort({ type: other.type, id: other.id }, 'bench-diag').catch(() => undefined);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench iohyp] failed: ${(e as Error).message}\n`);
  process.exit(1);
});
