/**
 * Cloudlet benchmark (issue 7): prints ONE JSON object.
 *
 *   npm run bench -- cloudlet
 *   npx tsx --conditions=development tools/bench/cloudlet.ts [--files-mib N] [--memory-mib M] [--ram-mib R]
 *       [--compression zstd|xz] [--level L]
 *
 * Workload (docs/cloudlet.md "Benchmark"): boot the project guest (R MiB RAM, its 64 MiB ext4 data
 * disk), capture it as a base, resume the base, then write N MiB of mixed files to /data (the agent's
 * write-files: text, random and zero files) plus real ELF binaries from this host, and fill M MiB of
 * guest memory; then make the overlay. The peer, in the same run: `xdelta3 -9 -s` of base vs
 * customized disk image and memory image, each followed by `xz -9`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasGuestAgent, hasMemoryImages, loadDriver, type ImageMeta, type InstanceRef, type MemoryImage } from '@virtplug/core';
import { Cloudlet, settingsFrom, type CloudletDriver } from '@virtplug/cloudlet';

const args = process.argv.slice(2);
const num = (flag: string, def: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const FILES_MIB = num('--files-mib', 24);
const MEMORY_MIB = num('--memory-mib', 16);
const RAM_MIB = num('--ram-mib', 256);
const COMPRESSION = (args.includes('--compression') ? args[args.indexOf('--compression') + 1] : 'zstd') as 'zstd' | 'xz';
const LEVEL = num('--level', COMPRESSION === 'zstd' ? 9 : 6);
const BINARIES = ['/usr/bin/qemu-img', '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', '/usr/bin/xdelta3'].filter((p) => existsSync(p));
const GUEST_DIR = '/var/lib/virtplug/guest-image';
const PART = 128 << 10;
const T = randomBytes(3).toString('hex');
const log = (s: string) => process.stderr.write(`[bench cloudlet] ${s}\n`);

function guestImage(): ImageMeta {
  const m = JSON.parse(readFileSync(join(GUEST_DIR, 'manifest.json'), 'utf8')) as { cmdline?: string; kernel?: string };
  const kernel = join(GUEST_DIR, m.kernel ?? 'vmlinuz');
  return { id: 'guest', name: 'guest', diskFormat: 'qcow2', path: join(GUEST_DIR, 'data.qcow2'), kernel: existsSync(kernel) ? kernel : join(GUEST_DIR, 'vmlinuz'), initrd: join(GUEST_DIR, 'initrd.img'), cmdline: m.cmdline ?? 'console=ttyS0 quiet' };
}

function run(cmd: string, argv: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.slice(-300)}`))));
  });
}

/** xdelta3 -9 -s base target, then xz -9 of the delta; returns the .xz size. */
async function peer(base: string, target: string, out: string): Promise<number> {
  await run('xdelta3', ['-9', '-f', '-s', base, target, out]);
  await run('xz', ['-9', '-f', '-k', '-T1', out]);
  return statSync(`${out}.xz`).size;
}

async function main(): Promise<void> {
  for (const tool of ['xdelta3', 'xz', 'qemu-img']) {
    try {
      execFileSync('which', [tool], { stdio: 'pipe' });
    } catch {
      throw new Error(`${tool} is missing; install it: apt-get install -y xdelta3 xz-utils qemu-utils`);
    }
  }
  if (!existsSync(join(GUEST_DIR, 'manifest.json'))) throw new Error('guest image missing; run: bash tools/guest-image/build.sh');
  const state = mkdtempSync('/var/tmp/vp-cl-bench-');
  const driver = await loadDriver({ computeDriver: 'libvirt', statePath: state, logLevel: 'silent', libvirt: { vms_mode: 'shared', event_poll_interval: 0, shutdown_timeout: 5 } });
  if (!hasMemoryImages(driver) || !hasGuestAgent(driver)) throw new Error('the libvirt driver has no memoryImages/guestAgent');
  const d = driver as CloudletDriver;
  const ramDir = `/dev/shm/vp-cl-bench-${T}`;
  const cloudlet = new Cloudlet(d, settingsFrom({ base_dir: join(state, 'cloudlet'), compression: COMPRESSION, zstd_level: LEVEL, xz_preset: LEVEL, ram_dir: ramDir }));
  const peerCloudlet = new Cloudlet(d, settingsFrom({ base_dir: join(state, 'cloudlet-dest'), ram_dir: `${ramDir}-dest` }));
  const refs: InstanceRef[] = [];
  const agent = (ref: InstanceRef, op: string, a: Record<string, unknown> = {}) => d.guestAgent(ref).request(op, a, { timeoutMs: 180_000 });
  try {
    // Cold boot, until the agent answers.
    const src = { uuid: randomUUID(), name: `vp-cl-bench-src-${T}` };
    let t0 = performance.now();
    await d.spawn({ ...src, flavor: { name: 'bench', memoryMb: RAM_MIB, vcpus: 1, rootGb: 1 } }, guestImage());
    refs.push(src);
    await d.guestAgent(src).waitReady(180_000);
    const coldBootMs = performance.now() - t0;
    log(`cold boot ${Math.round(coldBootMs)} ms`);
    const base = await cloudlet.createBase(src, `vp-cl-bench-${T}`);
    log(`base ${base.id}`);

    // Customize a VM resumed from the base; a driver that cannot capture restored VMs gets the
    // origin VM customized instead (it runs on from the base cut, so the overlay is the same idea).
    let vm: InstanceRef = await cloudlet.resumeBase(base.id, { name: `vp-cl-bench-res-${T}` });
    refs.push(vm);
    let customized = 'resumed-base';
    const probe = join(state, 'probe');
    try {
      const img = await d.memoryImages.capture(vm, probe);
      await rm(probe, { recursive: true, force: true });
      void img;
      await d.destroy(src);
    } catch (e) {
      log(`capture of a resumed instance refused (${(e as Error).message.slice(0, 160)}); customizing the origin VM instead`);
      await cloudlet.destroyInstance(vm);
      vm = src;
      customized = 'origin-vm';
    }
    await rm(probe, { recursive: true, force: true });
    t0 = performance.now();
    await agent(vm, 'workload', { name: 'write-files', dir: '/data/bench/files', mib: FILES_MIB, seed: 11 });
    // Binaries go in as 128 KiB parts: one big write-file request would leave its base64 line and
    // decoded copy as garbage in the agent's heap, memory that is the test tool's, not the workload's.
    let binBytes = 0;
    for (const [i, p] of BINARIES.entries()) {
      const data = readFileSync(p);
      binBytes += data.length;
      for (let off = 0, part = 0; off < data.length; off += PART, part++) {
        const path = `/data/bench/bin/${i}-${p.split('/').pop()}.${String(part).padStart(4, '0')}`;
        await agent(vm, 'write-file', { path, data_b64: data.subarray(off, off + PART).toString('base64'), sync: false });
      }
    }
    if (MEMORY_MIB > 0) await agent(vm, 'workload', { name: 'fill-memory', mib: MEMORY_MIB, seed: 5 });
    await agent(vm, 'sync');
    log(`workload ${Math.round(performance.now() - t0)} ms`);

    // Our overlay: capture, then the pipeline (timed separately from the capture).
    const capDir = join(state, 'capture');
    t0 = performance.now();
    const image: MemoryImage = await d.memoryImages.capture(vm, capDir);
    const captureMs = performance.now() - t0;
    const overlayDir = join(state, 'overlays');
    mkdirSync(overlayDir);
    const overlayPath = join(overlayDir, 'bench.vpo');
    const o = await cloudlet.overlayFromImage(base, image, { dest: overlayPath, baseId: base.id });
    const createMs = o.ms;
    const scanned = o.manifest.stats.scanned_bytes;
    log(`overlay ${o.bytes} bytes in ${Math.round(createMs)} ms (capture ${Math.round(captureMs)} ms) ${JSON.stringify(o.manifest.stats)}`);

    // The peer: xdelta3 -9 -s + xz -9 on disk and memory images, both at once (2 cores, like ours).
    const customDisk = join(state, 'custom-disk.raw');
    execFileSync('qemu-img', ['convert', '-U', '-f', image.diskFormat, '-O', 'raw', image.diskPath, customDisk]);
    t0 = performance.now();
    const [peerDisk, peerMem] = await Promise.all([peer(base.diskPath, customDisk, join(state, 'disk.xd3')), peer(base.ramPath, image.ramPath, join(state, 'mem.xd3'))]);
    const peerMs = performance.now() - t0;
    log(`peer ${peerDisk + peerMem} bytes (disk ${peerDisk}, memory ${peerMem}) in ${Math.round(peerMs)} ms`);
    await rm(capDir, { recursive: true, force: true });
    await rm(customDisk, { force: true });

    // Synthesis from a URL, until the agent answers; the customized VM is gone first (2 cores).
    if (customized === 'origin-vm') await d.destroy(vm);
    else await cloudlet.destroyInstance(vm);
    const token = randomBytes(16).toString('hex');
    const server = await cloudlet.serve({ dir: overlayDir, token });
    t0 = performance.now();
    const syn = await cloudlet.synthesize({ source: `${server.url}/bench.vpo`, token, name: `vp-cl-bench-syn-${T}` });
    const synthesisMs = performance.now() - t0;
    refs.push(syn.instance);
    await server.close();
    log(`synthesis ${Math.round(synthesisMs)} ms ${JSON.stringify(syn.timings)}`);

    // Handoff to a second cloudlet (own base copy) on this libvirtd.
    let handoff: { total: number; downtime: number; bytes: number; precopy: number } | { error: string };
    try {
      const pkg = join(state, 'base.tar');
      await cloudlet.exportBase(base.id, pkg);
      await peerCloudlet.importBase(pkg);
      const rcv = await peerCloudlet.handoffReceiver({ token });
      try {
        const h = await cloudlet.handoff(syn.instance, { url: rcv.url, token, name: `vp-cl-bench-ho-${T}` });
        refs.push(h.destination.instance);
        handoff = { total: h.timings.total_ms, downtime: h.timings.downtime_ms, bytes: h.residue_bytes, precopy: h.precopy_bytes };
        log(`handoff ${JSON.stringify(h.timings)} pre-copy ${h.precopy_bytes} residue ${h.residue_bytes}; destination ${JSON.stringify(h.destination.timings)}`);
      } finally {
        await rcv.close();
      }
    } catch (e) {
      handoff = { error: (e as Error).message.slice(0, 300) };
      log(`handoff failed: ${handoff.error}`);
    }

    const r = (x: number) => Math.round(x);
    const peerBytes = peerDisk + peerMem;
    process.stdout.write(
      JSON.stringify({
        bench: 'cloudlet',
        base_disk_mib: r(base.manifest.disk.bytes / 2 ** 20),
        guest_ram_mib: r(base.manifest.memory.bytes / 2 ** 20),
        workload_mib: r(FILES_MIB + binBytes / 2 ** 20 + MEMORY_MIB),
        workload: { files_mib: FILES_MIB, binaries_mib: +(binBytes / 2 ** 20).toFixed(1), memory_mib: MEMORY_MIB, customized },
        overlay_bytes: o.bytes,
        peer_xdelta_xz_bytes: peerBytes,
        size_ratio_vs_peer: +(o.bytes / peerBytes).toFixed(3),
        create_ms: r(createMs),
        create_mb_per_s: r(scanned / 1e6 / (createMs / 1000)),
        capture_ms: r(captureMs),
        peer_ms: r(peerMs),
        synthesis_ms: r(synthesisMs),
        cold_boot_ms: r(coldBootMs),
        synthesis_ratio: +(synthesisMs / coldBootMs).toFixed(3),
        handoff_ms: 'error' in handoff ? null : r(handoff.total),
        handoff_downtime_ms: 'error' in handoff ? null : r(handoff.downtime),
        ...('error' in handoff ? { handoff_error: handoff.error } : { handoff_precopy_bytes: handoff.precopy, handoff_residue_bytes: handoff.bytes }),
        overlay_stats: o.manifest.stats,
        compression: `${cloudlet.settings.compression}-${cloudlet.settings.compression === 'zstd' ? cloudlet.settings.zstd_level : cloudlet.settings.xz_preset}`,
      }) + '\n',
    );
  } finally {
    for (const ref of refs.reverse()) await d.destroy(ref).catch(() => undefined);
    await peerCloudlet.close();
    await cloudlet.close();
    await driver.close();
    await rm(state, { recursive: true, force: true });
    await rm(ramDir, { recursive: true, force: true });
    await rm(`${ramDir}-dest`, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench cloudlet failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
