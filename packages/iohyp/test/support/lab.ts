import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The three-host lab (tools/lab/iohyp.sh) as the tests see it. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const LAB = `${REPO}tools/lab/iohyp.sh`;

export interface LabFacts {
  run: string;
  namespaces: Record<'storage' | 'iohyp' | 'computeVteps' | 'peerVlan100' | 'peerVlan200' | 'peerVni300' | 'peerVni301', string>;
  storage: { portal: string; tgtControlPort: number; iqnPrefix: string; volumesDir: string; chapFile: string };
  agent: { name: string; url: string; tokenFile: string; caFile: string; stateDir: string; log: string };
  ovs: { iohyp: { db: string; bridge: string }; compute: { db: string; bridge: string } };
  segments: Record<string, { type: 'vlan' | 'vxlan'; id: number; cidr: string; bridge: string; computeAddress: string; guestAddress?: string; iohypAddress?: string }>;
  peers: Record<string, string>;
  config: string;
}

export async function labUp(): Promise<LabFacts> {
  if (process.getuid?.() !== 0) throw new Error('The IOhyp lab tests need root (network namespaces, tgtd, OVS, libvirt); run them as root.');
  const r = await execa('bash', [LAB, 'up'], { reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new Error(`bash tools/lab/iohyp.sh up failed (exit ${r.exitCode}); prerequisites come from 'bash tools/setup.sh':\n${r.all}`);
  }
  return JSON.parse(readFileSync('/run/vp-io-lab/lab.json', 'utf8')) as LabFacts;
}

export async function labDown(): Promise<void> {
  await execa('bash', [LAB, 'down'], { reject: false });
}

export async function inNs(ns: string, file: string, args: string[], timeoutMs = 30_000) {
  return execa('ip', ['netns', 'exec', ns, file, ...args], { reject: false, timeout: timeoutMs, all: true });
}

/** One NBD connection attempt from a namespace ("-" = the compute host itself). */
export async function nbdRead(ns: string, host: string, port: number, name: string): Promise<{ ok: boolean; output: string }> {
  const args = ['-f', 'raw', '-c', 'read 0 512', `nbd://${host}:${port}/${name}`];
  const r = ns === '-' ? await execa('qemu-io', args, { reject: false, timeout: 30_000, all: true }) : await inNs(ns, 'qemu-io', args);
  return { ok: r.exitCode === 0, output: String(r.all ?? '') };
}

export function chap(facts: LabFacts): { username: string; password: string } {
  return JSON.parse(readFileSync(facts.storage.chapFile, 'utf8')) as { username: string; password: string };
}

export function backingBytes(facts: LabFacts, volume: string, offset: number, length: number): Buffer {
  return readFileSync(`${facts.storage.volumesDir}/${volume}.img`).subarray(offset, offset + length);
}

/** What the IOhyp host has that a route could have left: ports, ACL table, export daemons, secrets. */
export async function iohypLeftovers(facts: LabFacts): Promise<string[]> {
  const ns = facts.namespaces.iohyp;
  const out: string[] = [];
  const links = (await inNs(ns, 'ip', ['-o', 'link', 'show'])).stdout;
  for (const m of links.matchAll(/^\d+: (io[vplx]\d+)[@:]/gm)) out.push(`link ${m[1]}`);
  const ports = (await inNs(ns, 'ovs-vsctl', [`--db=${facts.ovs.iohyp.db}`, 'list-ports', facts.ovs.iohyp.bridge])).stdout.split('\n').filter(Boolean);
  for (const p of ports) if (p !== 'trh') out.push(`ovs port ${p}`);
  if ((await inNs(ns, 'nft', ['list', 'table', 'inet', 'vp_iohyp'])).exitCode === 0) out.push('nft table vp_iohyp');
  const pids = (await execa('ip', ['netns', 'pids', ns], { reject: false })).stdout.split('\n').filter(Boolean);
  for (const pid of pids) {
    const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] : '';
    if (/qemu-(storage-daemon|nbd)$/.test(cmd ?? '')) out.push(`process ${pid} ${cmd}`);
  }
  const secrets = `${facts.agent.stateDir}/secrets`;
  if (existsSync(secrets)) for (const f of readdirSync(secrets)) out.push(`secret file ${f}`);
  return out;
}
