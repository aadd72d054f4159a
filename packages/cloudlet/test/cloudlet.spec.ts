/**
 * The cloudlet on real guests: libvirtd + QEMU TCG, the project guest image and its agent.
 * One base VM, one customized VM, at most two guests at a time; everything is named vp-cl-<tag>.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decode } from '@msgpack/msgpack';
import { EvidenceRecorder, writeEvidence, type InstanceRef } from '@virtplug/core';
import { Cloudlet } from '../src/cloudlet.js';
import { settingsFrom } from '../src/config.js';
import { encodeHeader, FIXED_HEADER } from '../src/overlay/container.js';
import type { OverlayManifest } from '../src/overlay/manifest.js';
import type { RunningReceiver } from '../src/handoff/receiver.js';
import type { RunningServer } from '../src/serve/server.js';
import type { BaseRecord } from '../src/base/store.js';
import { agentCall, boot, destroyRun, domainsWith, EVIDENCE_DIR, liveEnv, readGuestFile, removeState, tag as newTag, type LiveEnv } from './helpers/live.js';

const T = newTag();
const TOKEN = `vp-cl-token-${randomBytes(12).toString('hex')}`;
const evidence = new EvidenceRecorder();
let env: LiveEnv;
let peer: Cloudlet;
let src: InstanceRef;
let srcBoot: string;
let resumed: InstanceRef;
let base: BaseRecord;
let overlayPath: string;
let synthesized: InstanceRef | null = null;
let server: RunningServer | null = null;
let receiver: RunningReceiver | null = null;
const appBytes = randomBytes(3 << 20);
let randomFile: Buffer;

/** Runs a check and records it as evidence for a feature, pass or fail. */
async function proves(feature: string, check: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    evidence.record(feature, 'pass', undefined, check);
  } catch (e) {
    evidence.record(feature, 'fail', (e as Error).message.slice(0, 300), check);
    throw e;
  }
}

const marker = async (ref: InstanceRef) => (await agentCall<{ value: string | null }>(env.driver, ref, 'marker-get')).value;
const identity = (ref: InstanceRef) => agentCall<{ boot_id: string; hostname: string; machine_id: string }>(env.driver, ref, 'identity');
const workDirsLeft = () => (existsSync(env.cloudlet.work.root) ? readdirSync(env.cloudlet.work.root) : []);
const RAM_DIR = `/dev/shm/vp-cl-ram-${T}`;
/** Rebuilt RAM images and tmpfs work dirs (captures) still on tmpfs. */
const ramFilesLeft = () => [
  ...(existsSync(RAM_DIR) ? readdirSync(RAM_DIR).filter((n) => n.endsWith('.ram')) : []),
  ...(existsSync(join(RAM_DIR, 'tmp')) ? readdirSync(join(RAM_DIR, 'tmp')) : []),
];
const instanceDirs = (c: Cloudlet) => (existsSync(c.instances.root) ? readdirSync(c.instances.root) : []);

beforeAll(async () => {
  env = await liveEnv(`it-${T}`, { ram_dir: RAM_DIR });
  peer = new Cloudlet(env.driver, settingsFrom({ base_dir: join(env.statePath, 'cloudlet-peer'), zstd_level: 3, ram_dir: `${RAM_DIR}-peer` }));
  src = await boot(env.driver, `vp-cl-src-${T}`);
  srcBoot = (await identity(src)).boot_id;
  await agentCall(env.driver, src, 'marker-set', { value: `base-${T}` });
  base = await env.cloudlet.createBase(src, `vp-cl-base-${T}`);
}, 300_000);

afterAll(async () => {
  await receiver?.close();
  await server?.close();
  if (env) {
    await destroyRun(env.driver, T);
    await peer?.close();
    await env.close();
    await removeState(env.statePath);
  }
  rmSync(RAM_DIR, { recursive: true, force: true });
  rmSync(`${RAM_DIR}-peer`, { recursive: true, force: true });
  const features = evidence.results();
  if (Object.keys(features).length === 4) {
    const version = execFileSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'pipe' }).toString();
    const qemu = /hypervisor: QEMU ([\d.]+)/.exec(version)?.[1] ?? 'unknown';
    const libvirt = /libvirt ([\d.]+)/.exec(version)?.[1] ?? 'unknown';
    writeEvidence(EVIDENCE_DIR, 'libvirt-cloudlet', evidence.build('libvirt', 'live', { name: 'libvirt', version: libvirt, details: { qemu, suite: 'packages/cloudlet/test/cloudlet.spec.ts' } }));
  }
}, 120_000);

describe('cloudlet on libvirt (live)', () => {
  it('cloudlet.base: exports, imports elsewhere with the same id, refuses a foreign machine, resumes from base memory', async () => {
    await proves('cloudlet.base', 'create-base from a running guest; export-base + import-base keep the id; resume-base restores base memory without a reboot', async () => {
      expect(base.id).toMatch(/^[0-9a-f]{64}$/);
      expect(base.manifest.machine.virtType).toBe('qemu');
      const pkg = join(env.statePath, 'base.tar');
      await env.cloudlet.exportBase(base.id, pkg);
      expect((await peer.importBase(pkg)).id).toBe(base.id);

      resumed = await env.cloudlet.resumeBase(base.id, { name: `vp-cl-res-${T}` });
      expect(await marker(resumed)).toBe(`base-${T}`);
      const id = await identity(resumed);
      expect(id.boot_id).toBe(srcBoot);
      expect(id.machine_id).not.toBe((await identity(src)).machine_id);
      // The base VM is no longer needed: the cloudlet works from the base from here on.
      await env.driver.destroy(src);
    });
    await proves('cloudlet.base', 'a base recorded on another machine type is refused before any restore', async () => {
      const other = new Cloudlet(env.driver, settingsFrom({ base_dir: join(env.statePath, 'cloudlet-other'), ram_dir: `${RAM_DIR}-peer` }));
      try {
        const b = await other.importBase(join(env.statePath, 'base.tar'));
        const mf = join(b.dir, 'base.json');
        const m = JSON.parse(readFileSync(mf, 'utf8'));
        m.machine.machineType = 'pc-q35-99.0';
        writeFileSync(mf, JSON.stringify(m));
        await expect(other.resumeBase(b.id, { name: `vp-cl-bad-${T}` })).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('machineType "pc-q35-99.0"') });
        expect(domainsWith(`bad-${T}`)).toEqual([]);
      } finally {
        await other.close();
      }
    });
  }, 240_000);

  it('cloudlet.overlay + cloudlet.synthesis: the synthesized VM has the files and the in-memory marker, without a reboot', async () => {
    const vm = resumed;
    await proves('cloudlet.overlay', 'overlay of an instance resumed from the base and customized (files on /data, memory marker, 8 MiB filled RAM)', async () => {
      await agentCall(env.driver, vm, 'write-file', { path: '/data/vp-cl/app.bin', data_b64: appBytes.toString('base64') });
      await agentCall(env.driver, vm, 'workload', { name: 'write-files', dir: '/data/vp-cl/files', mib: 6, seed: 7 }, 120_000);
      await agentCall(env.driver, vm, 'workload', { name: 'fill-memory', mib: 8, seed: 3 });
      await agentCall(env.driver, vm, 'marker-set', { value: `overlay-${T}` });
      randomFile = await readGuestFile(env.driver, vm, '/data/vp-cl/files/random-0001.bin');
      mkdirSync(join(env.statePath, 'overlays'), { recursive: true });
      overlayPath = join(env.statePath, 'overlays', 'app.vpo');
      // The base comes from the instance's record (it was resumed from it).
      const o = await env.cloudlet.createOverlay(vm, { dest: overlayPath });
      const s = o.manifest.stats;
      expect(o.manifest.base_id).toBe(base.id);
      expect(s.memory_chunks).toBeGreaterThan(2048);
      expect(s.disk_chunks).toBeGreaterThan(1024);
      expect(s.zero + s.base_mem + s.base_disk + s.self + s.xor + s.raw).toBe(s.memory_chunks + s.disk_chunks);
      // The random files' page-cache copies in RAM refer to their blocks on disk (1 KiB-aligned on
      // this 1 KiB-block ext4): ~2 MiB of write-files' random files + the 3 MiB app.bin.
      expect(s.self).toBeGreaterThan(1000);
      expect((await env.cloudlet.verifyOverlay(overlayPath)).totalBytes).toBe(o.bytes);
    });
    await env.cloudlet.destroyInstance(vm);
    await proves('cloudlet.synthesis', 'synthesis from an HTTP URL (token) reproduces file bytes and the memory marker, same boot', async () => {
      server = await env.cloudlet.serve({ dir: join(env.statePath, 'overlays'), token: TOKEN });
      const r = await env.cloudlet.synthesize({ source: `${server.url}/app.vpo`, token: TOKEN, name: `vp-cl-syn-${T}` });
      synthesized = r.instance;
      expect(await marker(r.instance)).toBe(`overlay-${T}`);
      expect((await readGuestFile(env.driver, r.instance, '/data/vp-cl/app.bin')).equals(appBytes)).toBe(true);
      expect((await readGuestFile(env.driver, r.instance, '/data/vp-cl/files/random-0001.bin')).equals(randomFile)).toBe(true);
      expect((await agentCall<{ intact: boolean }>(env.driver, r.instance, 'workload', { name: 'check-memory' })).intact).toBe(true);
      const id = await identity(r.instance);
      expect(id.boot_id).toBe(srcBoot);
      expect(workDirsLeft()).toEqual([]);
      expect(ramFilesLeft()).toEqual([]);
    });
  }, 300_000);

  it('cloudlet.synthesis: refuses a flipped byte, a truncation, an oversize blob and a wrong base, leaving nothing behind', async () => {
    await proves('cloudlet.synthesis', 'bad overlays are refused with no domain and no files left', async () => {
      const bytes = readFileSync(overlayPath);
      const len = bytes.readUInt32BE(12);
      const payload = FIXED_HEADER + len + 32;
      const m = decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + len)) as OverlayManifest;
      const dir = join(env.statePath, 'overlays');
      const flipped = Buffer.from(bytes);
      flipped[payload + m.blobs[2]!.offset + 100]! ^= 0x40;
      writeFileSync(join(dir, 'flipped.vpo'), flipped);
      writeFileSync(join(dir, 'truncated.vpo'), bytes.subarray(0, bytes.length - 4096));
      const big = structuredClone(m);
      big.blobs[0]!.raw_size -= 4096;
      writeFileSync(join(dir, 'oversize.vpo'), Buffer.concat([encodeHeader(big), bytes.subarray(payload)]));
      const before = instanceDirs(env.cloudlet).sort();
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['flipped.vpo', {}, /SHA-256.*corrupt/],
        ['truncated.vpo', {}, /truncated/],
        ['oversize.vpo', {}, /oversize/],
        ['app.vpo', { baseId: 'ab'.repeat(32) }, new RegExp(`${base.id}.*${'ab'.repeat(32)}`)],
      ];
      for (const [file, extra, msg] of cases) {
        const name = `vp-cl-bad-${file.split('.')[0]}-${T}`;
        await expect(env.cloudlet.synthesize({ source: `${server!.url}/${file}`, token: TOKEN, name, ...extra })).rejects.toThrow(msg);
        expect(domainsWith(name)).toEqual([]);
        expect(workDirsLeft()).toEqual([]);
        expect(ramFilesLeft()).toEqual([]);
        expect(instanceDirs(env.cloudlet).sort()).toEqual(before);
      }
      await expect(env.cloudlet.synthesize({ source: `${server!.url}/app.vpo`, token: 'wrong-token-0123456789', name: `vp-cl-bad-token-${T}` })).rejects.toThrow(/token/);
    });
  }, 120_000);

  it('cloudlet.synthesis: a synthesis killed midway leaves no domain and no files after cleanup', async () => {
    await proves('cloudlet.synthesis', 'kill -9 during launch, then cleanup: no domain, no work or instance files', async () => {
      const name = `vp-cl-kill-${T}`;
      const before = instanceDirs(env.cloudlet).sort();
      // node itself (not the tsx wrapper, which would survive as a parent while its child runs on).
      const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', join(process.cwd(), 'test/helpers/synth-child.ts'), env.statePath, env.cloudlet.settings.base_dir, overlayPath, name, RAM_DIR], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const phase = await new Promise<string>((resolve) => {
        let buf = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString();
          for (const line of buf.split('\n').slice(0, -1)) {
            const p = (JSON.parse(line) as { phase: string }).phase;
            // Killed after the files moved into place and the restore began: the worst moment.
            if (p === 'launch') {
              setTimeout(() => child.kill('SIGKILL'), 300);
              resolve(p);
            }
          }
          buf = buf.slice(buf.lastIndexOf('\n') + 1);
        });
        child.on('exit', () => resolve(`exited early: ${stderr.slice(-500)}`));
      });
      expect(phase).toBe('launch');
      await new Promise((r) => child.once('exit', r));
      const leftAfterKill = instanceDirs(env.cloudlet).length + workDirsLeft().length;
      expect(leftAfterKill).toBeGreaterThan(before.length);
      const r = await env.cloudlet.cleanup();
      expect(r.removedInstanceDirs + r.removedWorkDirs).toBeGreaterThan(0);
      expect(domainsWith(name)).toEqual([]);
      expect(workDirsLeft()).toEqual([]);
      expect(ramFilesLeft()).toEqual([]);
      expect(instanceDirs(env.cloudlet).sort()).toEqual(before);
    });
  }, 180_000);

  it('cloudlet.handoff: refused without the right token (nothing changes), then moves the VM with its memory and files', async () => {
    const s = synthesized!;
    expect(s).not.toBeNull();
    receiver = await peer.handoffReceiver({ token: TOKEN });
    await proves('cloudlet.handoff', 'a missing or wrong token is refused; source keeps running unchanged, destination gets nothing', async () => {
      const raw = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${receiver!.url}/v1/handoff?name=x`, { method: 'POST', headers: { 'content-length': '4' } }, (res) => resolve(res.statusCode!));
        req.on('error', reject);
        req.end('VPOV');
      });
      expect(raw).toBe(401);
      for (const token of ['wrong-token-0123456789abcdef', '']) {
        await expect(env.cloudlet.handoff(s, { url: receiver!.url, token, name: `vp-cl-ho-${T}` })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/token/) });
      }
      expect(await marker(s)).toBe(`overlay-${T}`);
      expect((await env.driver.getInfo(s)).state).toBe(1);
      expect(domainsWith(`ho-${T}`)).toEqual([]);
      expect(instanceDirs(peer)).toEqual([]);
    });
    await proves('cloudlet.handoff', 'handoff with the token: residue only, destination runs with memory and files, source destroyed after confirmation', async () => {
      await agentCall(env.driver, s, 'marker-set', { value: `handoff-${T}` });
      const r = await env.cloudlet.handoff(s, { url: receiver!.url, token: TOKEN, name: `vp-cl-ho-${T}` });
      const dest = { uuid: r.destination.instance.uuid, name: r.destination.instance.name };
      expect(await marker(dest)).toBe(`handoff-${T}`);
      expect((await readGuestFile(env.driver, dest, '/data/vp-cl/app.bin')).equals(appBytes)).toBe(true);
      expect(r.timings.downtime_ms).toBeGreaterThan(0);
      expect(r.residue_bytes).toBeLessThan(statSizeOf(base.ramPath) / 2);
      expect(domainsWith(`syn-${T}`)).toEqual([]);
      expect(instanceDirs(peer)).toEqual([dest.uuid]);
      synthesized = null;
    });
  }, 240_000);
});

function statSizeOf(p: string): number {
  return readFileSync(p).length;
}
