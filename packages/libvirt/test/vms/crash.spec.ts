import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { InstanceRef } from '@virtplug/core';
import { processStart } from '../../src/vms/owner.js';
import type { LibvirtLiveImage } from '../../src/vms/vm-streaming.js';
import { VmsEvidence } from './evidence.js';
import { agentRequest, bootSource, makeEnv, teardown, virsh, virshOk, vmsLeftovers, type VmsEnv } from './support.js';

jest.setTimeout(300_000);

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const PKG = fileURLToPath(new URL('../..', import.meta.url));

/** SIGKILL in the middle of bless and of launch: the source keeps running and gc removes the rest. */
describe('VMS after SIGKILL (real guests, shared mode)', () => {
  let env: VmsEnv;
  let source: InstanceRef;
  const ev = new VmsEvidence('crash');
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await makeEnv('crash', 'shared');
    source = await bootSource(env, 'vp-vms-crash-src');
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    ev.write();
    await teardown(env);
  });

  function runChild(op: 'bless' | 'launch', id: string, count = 1): { child: ChildProcess; started: Promise<void>; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', CHILD, JSON.stringify({ paths: { statePath: env.statePath, ramDir: env.ramDir, runDir: env.runDir }, mode: 'shared', op, id, count })], {
      cwd: PKG,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    children.push(child);
    let out = '';
    let err = '';
    const started = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('started')) resolve();
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', () => reject(new Error(`child exited before starting: ${err}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, started, exited };
  }

  const blessedDirs = () => readdirSync(join(env.statePath, 'vms')).filter((d) => /^[0-9a-f-]{36}$/.test(d));

  it('SIGKILL while bless has the source paused: the source runs again and gc removes the partial image', async () => {
    await ev.check('vms.bless', 'SIGKILL during bless (source paused): source resumed, gc cleans up', async () => {
      let sawPaused = false;
      for (let attempt = 0; attempt < 4 && !sawPaused; attempt++) {
        const { child, started, exited } = runChild('bless', source.uuid);
        await started;
        // Kill the moment the child has the source paused (its bless pause is a few hundred ms).
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && child.exitCode === null) {
          if (virsh('domstate', source.uuid).trim() === 'paused') {
            child.kill('SIGKILL');
            sawPaused = true;
            break;
          }
        }
        await exited;
        if (!sawPaused) {
          // The bless won the race and finished: discard it and try again.
          for (const id of blessedDirs()) await env.vms.discard(id);
        }
      }
      expect(sawPaused).toBe(true);
      // Nobody called anything yet: the guard the child started resumes the source on its own.
      const deadline = Date.now() + 30_000;
      while (virsh('domstate', source.uuid).trim() !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(virsh('domstate', source.uuid).trim()).toBe('running');
      expect((await agentRequest<{ pong: boolean }>(env, source, 'ping')).pong).toBe(true);
      // The partial live image is there until gc (or the next call) removes it.
      expect(blessedDirs().length).toBe(1);
      const report = await env.vms.gc();
      expect(report.removed.join('\n')).toMatch(/interrupted bless/);
      expect(vmsLeftovers(env)).toEqual([join(env.ramDir, 'live', `${source.uuid}.ram`)]);
      // x-ignore-shared is off again on the source (else its next save would be unloadable).
      expect(virsh('qemu-monitor-command', source.uuid, '{"execute":"query-migrate-capabilities"}')).toMatch(/"state":false,"capability":"x-ignore-shared"/);
    });
  });

  it('SIGKILL while launch is restoring clones: gc removes the half-made clone; the image still launches', async () => {
    await ev.check('vms.launch', 'SIGKILL during launch: gc removes the partial clone; launch works after', async () => {
      const blessed: LibvirtLiveImage = await env.vms.bless(source.uuid);
      const { child, started, exited } = runChild('launch', blessed.uuid, 2);
      await started;
      const childStart = processStart(child.pid!);
      const deadline = Date.now() + 120_000;
      let killedWith = '';
      while (Date.now() < deadline && child.exitCode === null) {
        const names = virsh('list', '--all', '--name').split('\n').map((l) => l.trim());
        const partial = names.find((n) => n.startsWith(`${blessed.name}-clone-`));
        if (partial) {
          child.kill('SIGKILL');
          killedWith = partial;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await exited;
      expect(killedWith).not.toBe('');
      // What a process that had stocked a spare restore FIFO (fifos.ts) leaves when it is killed.
      const spare = join(env.runDir, `spare-${child.pid}-${childStart}-${randomUUID()}.fifo`);
      execFileSync('mkfifo', ['-m', '600', spare]);
      const manifest = JSON.parse(readFileSync(join(env.statePath, 'vms', blessed.uuid, 'manifest.json'), 'utf8')) as { clones: string[] };
      expect(manifest.clones.length).toBe(2);
      for (const c of manifest.clones) env.uuids.add(c);
      const report = await env.vms.gc();
      expect(report.removed.join('\n')).toMatch(/interrupted launch/);
      expect(report.removed).toContain(`spare FIFO of ended process ${child.pid}`);
      expect(existsSync(spare)).toBe(false);
      for (const c of manifest.clones) {
        expect(virshOk('domstate', c)).toBe(false);
        expect(existsSync(join(env.statePath, 'vms', blessed.uuid, 'clones', c))).toBe(false);
        expect(existsSync(join(env.runDir, c))).toBe(false);
      }
      expect(virsh('domstate', source.uuid).trim()).toBe('running');
      // The live image is intact: a new launch works, and then everything can go.
      const [clone] = await blessed.launch({ params: { after: 'crash' } });
      env.uuids.add(clone!.uuid);
      expect((await agentRequest<{ hostname: string }>(env, clone!, 'identity')).hostname).toBe(clone!.name);
      await clone!.delete();
      await blessed.discard();
      expect(vmsLeftovers(env, [...manifest.clones, clone!.uuid])).toEqual([join(env.ramDir, 'live', `${source.uuid}.ram`)]);
    });
  });
});
