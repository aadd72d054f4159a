/**
 * `npm run bench -- iohyp [--segment vxlan300|vlan100] [--rounds N]`: the same iSCSI volume read both ways
 * from the compute host, side by side in one run — directly (QEMU's libiscsi -> tgtd) and through the
 * IOhyp chain (QEMU NBD -> qemu-storage-daemon on the tenant segment -> libiscsi -> tgtd) — plus the
 * routed attach/detach time of a real io:enabled=1 libvirt guest. Prints one JSON object on stdout; the
 * breakdown of where the extra latency goes is printed on stderr (docs/iohyp.md "Performance").
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { loadConfigFile, loadDriver, type Instance, type IscsiConnectionInfo } from '@virtplug/core';
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

/** One qemu-img bench run: 4 KiB reads at `depth`; returns seconds. `ns` runs it in a namespace. */
async function bench(url: string, depth: number, count: number, ns?: string): Promise<number> {
  const argv = ['bench', '-f', 'raw', '-c', String(count), '-d', String(depth), '-s', '4096', '-t', 'none', url];
  const r = ns ? await execa('ip', ['netns', 'exec', ns, 'qemu-img', ...argv], { reject: false, timeout: 300_000 }) : await execa('qemu-img', argv, { reject: false, timeout: 300_000 });
  const m = /Run completed in ([\d.]+) seconds/.exec(r.stdout);
  if (!m) throw new Error(`qemu-img bench ${url} (depth ${depth}) failed: ${r.stderr || r.stdout}`);
  return Number(m[1]);
}
const qd1Us = async (url: string, ns?: string) => ((await bench(url, 1, QD1_COUNT, ns)) * 1e6) / QD1_COUNT;
const qd16Iops = async (url: string, ns?: string) => QD16_COUNT / (await bench(url, 16, QD16_COUNT, ns));

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
    const d1: number[] = [], i1: number[] = [], d16: number[] = [], i16: number[] = [];
    await bench(direct, 1, 500); // warm both paths (sessions, ARP, caches)
    await bench(nbd, 1, 500);
    for (let r = 0; r < ROUNDS; r++) {
      d1.push(await qd1Us(direct));
      i1.push(await qd1Us(nbd));
      d16.push(await qd16Iops(direct));
      i16.push(await qd16Iops(nbd));
      log(`round ${r + 1}: direct ${round(d1.at(-1)!, 0)} us / ${round(d16.at(-1)!, 0)} IOPS; iohyp ${round(i1.at(-1)!, 0)} us / ${round(i16.at(-1)!, 0)} IOPS`);
    }
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
    };
    for (const line of diag) log(line);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await router.destroy(vm).catch((e: unknown) => log(`destroy: ${(e as Error).message}`));
    await router.close();
    if (startedLab) await execa('bash', [`${REPO}tools/lab/iohyp.sh`, 'down'], { reject: false });
  }
}

/**
 * Where the extra latency goes: the NBD hop alone (a null device exported on the same segment, on a
 * plain veth, on the other segment type), the IOhyp's own iSCSI hop, and the cost of Nagle when the
 * initiator delays its ACKs (QEMU 7.2's NBD server does not set TCP_NODELAY).
 */
async function breakdown(facts: any, exp: { host: string; port: number }, out: string[]): Promise<void> {
  const hyp = facts.namespaces.iohyp;
  const token = readFileSync(facts.agent.tokenFile, 'utf8').trim();
  const agent = new HttpAgentClient('hyp1', facts.agent.url, token);
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
