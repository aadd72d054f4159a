/**
 * libvirt driver benchmark: prints ONE JSON object.
 *   get_info_binding_us  median of the driver's getInfo route through @unraid/libvirt (in-process)
 *   virsh_dominfo_us     median of `virsh -c URI dominfo UUID` (a process per call)
 *   get_info_ratio       binding / virsh (goal: <= 0.1)
 *   list_1000_ms         median of listing 1000 domains and getInfo on each, through the driver,
 *                        on libvirt's test driver loaded from a generated node file
 * The two getInfo routes run interleaved in the same rounds against the same domain, so machine load
 * affects both alike. The domain is a defined, never-started `vp-lv-bench-*` on qemu:///system (or the
 * built-in `test` domain of test:///default when libvirtd is not running; stderr says which).
 * Run: npx tsx --conditions=development tools/bench/driver.ts
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ExecaProcessRunner, rootLogger } from '@virtplug/core';
import { BindingTransport, LibvirtDriver, VIRTPLUG_NS, resolveLibvirtConfig } from '@virtplug/libvirt';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function virsh(uri: string, ...args: string[]): string {
  return execFileSync('virsh', ['-c', uri, ...args], { stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } }).toString();
}

/** A defined (never started) domain to query, and how to remove it. */
function benchDomain(dir: string): { uri: string; uuid: string; cleanup: () => void } {
  try {
    virsh('qemu:///system', 'version');
  } catch {
    process.stderr.write('libvirtd not reachable: measuring against test:///default\n');
    return { uri: 'test:///default', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', cleanup: () => undefined };
  }
  const uuid = randomUUID();
  const file = join(dir, 'bench-domain.xml');
  writeFileSync(
    file,
    `<domain type='qemu'><name>vp-lv-bench-${uuid.slice(0, 8)}</name><uuid>${uuid}</uuid><memory unit='MiB'>128</memory><vcpu>1</vcpu>` +
      `<os><type arch='x86_64'>hvm</type></os></domain>`,
  );
  virsh('qemu:///system', 'define', file);
  process.stderr.write(`measuring getInfo against qemu:///system domain vp-lv-bench-${uuid.slice(0, 8)}\n`);
  return { uri: 'qemu:///system', uuid, cleanup: () => void virsh('qemu:///system', 'undefine', uuid) };
}

async function getInfoSideBySide(uri: string, uuid: string): Promise<{ binding: number; virsh: number }> {
  const binding = new BindingTransport(uri, 30_000);
  await binding.open();
  const b: number[] = [];
  const v: number[] = [];
  try {
    await binding.getInfo(uuid); // first call looks the domain up; the driver keeps the handle after that
    for (let round = 0; round < 25; round++) {
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        await binding.getInfo(uuid);
        b.push((performance.now() - t) * 1000);
      }
      const t = performance.now();
      virsh(uri, 'dominfo', uuid);
      v.push((performance.now() - t) * 1000);
    }
  } finally {
    await binding.close();
  }
  return { binding: median(b), virsh: median(v) };
}

/** A test-driver node file with `n` virtplug-managed domains (half running, half shut off). */
function nodeFile(dir: string, n: number): string {
  const domains = Array.from({ length: n }, (_, i) => {
    const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    return (
      `<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>vp-lv-bench-${i}</name><uuid>${uuid}</uuid>` +
      `<metadata><virtplug:instance xmlns:virtplug='${VIRTPLUG_NS}'><virtplug:created at='2026-01-01T00:00:00Z'/></virtplug:instance></metadata>` +
      `<memory unit='KiB'>131072</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>` +
      `<test:runstate>${i % 2 ? 5 : 1}</test:runstate></domain>`
    );
  });
  const path = join(dir, 'node-1000.xml');
  writeFileSync(path, `<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>8388608</memory>${domains.join('')}</node>`);
  return path;
}

async function list1000(dir: string): Promise<number> {
  const path = nodeFile(dir, 1000);
  const driver = new LibvirtDriver({
    config: resolveLibvirtConfig({ connection_uri: `test://${path}`, event_poll_interval: 0 }, join(dir, 'state')),
    runner: new ExecaProcessRunner(),
    logger: rootLogger('silent'),
  });
  await driver.init();
  const samples: number[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const refs = await driver.listInstanceRefs();
      const infos = await Promise.all(refs.map((r) => driver.getInfo(r)));
      if (infos.length !== 1000) throw new Error(`expected 1000 domains, listed ${infos.length}`);
      if (i > 0) samples.push(performance.now() - t); // the first run also reads each domain's metadata once
    }
  } finally {
    await driver.close();
  }
  return median(samples);
}

const dir = mkdtempSync(join(tmpdir(), 'vp-lv-bench-'));
const domain = benchDomain(dir);
try {
  const g = await getInfoSideBySide(domain.uri, domain.uuid);
  const list = await list1000(dir);
  process.stdout.write(
    JSON.stringify({ get_info_binding_us: round(g.binding), virsh_dominfo_us: round(g.virsh), get_info_ratio: round(g.binding / g.virsh, 4), list_1000_ms: round(list) }) + '\n',
  );
} finally {
  domain.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
