import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { hasErrorCode, type InstanceRef } from '@virtplug/core';
import type { LibvirtLaunchedInstance, LibvirtLiveImage } from '../../src/vms/vm-streaming.js';
import { VmsEvidence } from './evidence.js';
import { agentRequest, bootSource, hookLog, instanceFor, makeEnv, teardown, virsh, vmsLeftovers, type VmsEnv } from './support.js';
import { guestImage } from '../helpers/env.js';

/**
 * Gridcentric semantics on real TCG guests, for one VMS mode: shared (clones map the blessed RAM
 * copy-on-write) or copy (each clone loads the full RAM image). One spec file per mode runs it.
 */
export function lifecycleSuite(mode: 'shared' | 'copy'): void {
jest.setTimeout(300_000);
const tag = mode === 'shared' ? 'life' : 'lcopy';
describe(`VMS lifecycle (${mode} mode, real guests)`, () => {
  let env: VmsEnv;
  let source: InstanceRef;
  let blessed: LibvirtLiveImage;
  let clones: LibvirtLaunchedInstance[] = [];
  const ev = new VmsEvidence(`lifecycle-${mode}`);
  const PARAMS = { quote: `it's "quoted"`, xml: '<b>&amp;</b>', shell: '$(touch /tmp/pwned)`id`', path: '../../etc/passwd', plain: 'v' };

  const expectCode = async (p: Promise<unknown>, code: string, message?: RegExp) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeDefined();
    expect(hasErrorCode(e, code as never)).toBe(true);
    if (message) expect((e as Error).message).toMatch(message);
  };

  beforeAll(async () => {
    env = await makeEnv(tag, mode);
    source = await bootSource(env, `vp-vms-${tag}-src`);
  });

  afterAll(async () => {
    ev.write();
    await teardown(env);
  });

  it('blesses a running instance into a live image; the source keeps running', async () => {
    blessed = await ev.check('vms.bless', `bless of a running source (${mode})`, async () => {
      const progress: number[] = [];
      const b = await env.vms.bless(source.uuid, { onProgress: (f) => progress.push(f) });
      expect(b).toMatchObject({ status: 'BLESSED', name: `vp-vms-${tag}-src-1`, blessedFrom: source.uuid, mode });
      // Progress reports the copies: fractions in [0, 1], never going back, ending at 1.
      expect(progress.at(-1)).toBe(1);
      expect(progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1]!))).toBe(true);
      expect(b.pauseMs).toBeGreaterThan(0);
      expect(virsh('domstate', source.uuid).trim()).toBe('running');
      expect(existsSync(b.artifacts.state)).toBe(true);
      expect(readdirSync(join(env.statePath, 'vms', b.uuid))).toEqual(expect.arrayContaining(['manifest.json', 'state.img', 'disk-vda.qcow2', 'overlay-vda.qcow2']));
      // The empty overlay clones copy: qcow2 on the blessed disk, nothing allocated.
      const template = qemuImgInfo(join(env.statePath, 'vms', b.uuid, 'overlay-vda.qcow2'));
      expect(template).toMatchObject({ format: 'qcow2', 'backing-filename': join(env.statePath, 'vms', b.uuid, 'disk-vda.qcow2'), 'backing-filename-format': 'qcow2' });
      expect(b.artifacts.disks[0]!.overlayTemplate).toBe(join(env.statePath, 'vms', b.uuid, 'overlay-vda.qcow2'));
      if (mode === 'shared') {
        expect(statSync(b.artifacts.ram!).size).toBe(256 * 1024 * 1024);
        // the device state carries no RAM (x-ignore-shared)
        expect(statSync(b.artifacts.state).size).toBeLessThan(4 * 1024 * 1024);
      } else {
        expect(b.artifacts.ram).toBeUndefined();
      }
      return b;
    });
    expect((await env.vms.get(blessed.uuid)).status).toBe('BLESSED');
    await ev.check('vms.list', 'list-blessed of the source', async () => {
      expect((await env.vms.listBlessed(source.uuid)).map((b) => b.uuid)).toEqual([blessed.uuid]);
    });
  });

  it('refuses to bless a live image and a non-active instance (cobalt messages)', async () => {
    await ev.check('vms.bless', 'bless refusals', async () => {
      await expectCode(env.vms.bless(blessed.uuid), 'invalid_state', new RegExp(`^Instance ${blessed.uuid} is already a live image\\.$`));
      const stopped = instanceFor(env, `vp-vms-${tag}-stopped`, 128);
      env.uuids.add(stopped.uuid);
      await env.driver.spawn(stopped, guestImage(), { powerOn: false });
      await expectCode(env.vms.bless(stopped.uuid), 'invalid_state', /is not active\. Cannot create a live image from a non-active instance\./);
      await expectCode(env.vms.bless('no-such-instance'), 'not_found');
      await env.driver.destroy(stopped);
    });
  });

  it('refuses to launch from something that is not a live image, and oversized params leave nothing behind', async () => {
    await ev.check('vms.launch', 'launch refusals', async () => {
      await expectCode(env.vms.launch(source.uuid), 'invalid_state', new RegExp(`^Instance ${source.uuid} is not a live image\\. Please create a live image to launch from it\\.$`));
      await expectCode(env.vms.launch('00000000-0000-4000-8000-000000000000'), 'not_found');
      await expectCode(blessed.launch({ count: 0 }), 'invalid_argument');
    });
    await ev.check('vms.launch.params', 'params over 12 KiB fail and leave nothing', async () => {
      const before = readdirSync(join(env.statePath, 'vms', blessed.uuid));
      const domainsBefore = virsh('list', '--all', '--uuid').trim();
      await expectCode(blessed.launch({ params: { big: 'x'.repeat(13 * 1024) } }), 'invalid_argument', /12 KiB/);
      expect(readdirSync(join(env.statePath, 'vms', blessed.uuid))).toEqual(before);
      expect(virsh('list', '--all', '--uuid').trim()).toBe(domainsBefore);
      expect(await blessed.listLaunched()).toEqual([]);
    });
  });

  it('launches 3 clones with params: each re-identified, params delivered, launched_from recorded', async () => {
    clones = await ev.check(['vms.launch', 'vms.launch.params', 'vms.launch.target'], `launch x3 with params and --target 64mb (${mode})`, () =>
      blessed.launch({ count: 3, params: PARAMS, target: '64mb' }),
    );
    for (const c of clones) env.uuids.add(c.uuid);
    expect(clones).toHaveLength(3);
    const ids = new Set<string>();
    for (const c of clones) {
      expect(c.launchedFrom).toBe(blessed.uuid);
      const id = await agentRequest<{ hostname: string; macs: Record<string, string>; machine_id: string; boot_id: string; clone_generation: number }>(env, c, 'identity');
      expect(id.hostname).toBe(c.name);
      expect(id.macs.eth0).toBe(c.macs[0]);
      expect(id.clone_generation).toBe(1);
      // libvirt's view agrees with the guest's, and the link is up after re-identification
      expect(virsh('domiflist', c.uuid)).toContain(c.macs[0]!);
      expect(virsh('domif-getlink', c.uuid, c.macs[0]!)).toMatch(/up/);
      expect(virsh('domuuid', c.name).trim()).toBe(c.uuid);
      // Its disk is its own overlay on the blessed disk.
      const disk = qemuImgInfo(join(env.statePath, 'vms', blessed.uuid, 'clones', c.uuid, 'disk-vda.qcow2'));
      expect(disk).toMatchObject({ format: 'qcow2', 'backing-filename': join(env.statePath, 'vms', blessed.uuid, 'disk-vda.qcow2') });
      ids.add(c.uuid).add(c.macs[0]!).add(id.hostname).add(id.machine_id);
      const log = await hookLog(env, c);
      expect(log).toContain('phase=launch');
      // The hooks ran while the link was still down (the clone had not been re-identified yet).
      expect(log).toContain('carrier eth0=0');
      expect(log).not.toContain('carrier eth0=1');
      expect(log).toContain(`params=${JSON.stringify(PARAMS)}`);
      expect(log).toContain(`VMS_quote=${PARAMS.quote}`);
      expect(log).toContain(`VMS_shell=${PARAMS.shell}`);
      expect(log).toContain(`VMS_path=${PARAMS.path}`);
      // --target 64mb = 16384 pages -> memtune soft limit 65536 KiB
      expect(virsh('memtune', c.uuid)).toMatch(/soft_limit\s*:\s*65536/);
    }
    expect(ids.size).toBe(12);
    const srcId = await agentRequest<{ machine_id: string; macs: Record<string, string> }>(env, source, 'identity');
    expect(clones.map((c) => c.macs[0])).not.toContain(srcId.macs.eth0);
    // The guest ran '$(touch …)' nowhere: params are data.
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it(mode === 'shared' ? 'shares memory copy-on-write: each clone maps the blessed RAM file privately' : 'gives each clone its own full RAM', async () => {
    await ev.check(mode === 'shared' ? 'vms.cow-memory' : 'vms.launch', `clone RAM mapping (${mode}); libvirt records launched_from`, async () => {
      for (const c of clones) {
        const maps = readMaps(pidOf(c.name));
        const shared = maps.find((l) => l.includes(env.ramDir));
        if (mode === 'shared') {
          expect(shared).toBeDefined();
          expect(shared!.endsWith(blessed.artifacts.ram!)).toBe(true);
          expect(shared!.split(/\s+/)[1]).toMatch(/^r.-p$/); // MAP_PRIVATE: copy-on-write
        } else {
          expect(shared).toBeUndefined();
        }
        expect(virsh('metadata', c.uuid, 'https://virtplug.dev/xmlns/vms/1')).toContain(`launched_from="${blessed.uuid}"`);
      }
    });
    await ev.check('vms.list', 'list-launched', async () => {
      expect((await blessed.listLaunched()).map((c) => c.uuid).sort()).toEqual(clones.map((c) => c.uuid).sort());
      expect((await env.driver.listInstanceUuids())).toEqual(expect.arrayContaining(clones.map((c) => c.uuid)));
    });
  });

  it('refuses discard while clones live and refuses to delete a live image', async () => {
    await ev.check('vms.discard', 'discard refused with live clones; delete of blessed refused', async () => {
      await expectCode(blessed.discard(), 'invalid_state', new RegExp(`^Instance ${blessed.uuid} still has launched instances\\. Cannot discard an instance with remaining launched ones\\.$`));
      await expectCode(blessed.delete(), 'invalid_state', new RegExp(`^Cannot delete a live image ${blessed.uuid}\\. Please discard it instead\\.$`));
      await expectCode((await env.vms.get(blessed.uuid)).delete(), 'invalid_state', /discard it instead/);
      expect((await env.vms.get(blessed.uuid)).status).toBe('BLESSED');
    });
  });

  it('blesses a clone (clones of clones) and launches from it', async () => {
    await ev.check(['vms.bless', 'vms.launch'], 'clone of a clone', async () => {
      // Two clones go first, to stay within 3 guests on 2 cores.
      await clones[1]!.delete();
      await clones[2]!.delete();
      await env.vms.waitForStatus(clones[2]!.uuid, 'DELETED', { timeoutMs: 30_000 });
      const b2 = await env.vms.bless(clones[0]!.uuid);
      expect(b2).toMatchObject({ blessedFrom: clones[0]!.uuid, name: `${clones[0]!.name}-1`, mode: 'copy' });
      const [gc] = await b2.launch({ params: { level: '2' } });
      env.uuids.add(gc!.uuid);
      expect(await hookLog(env, gc!)).toContain('params={"level":"2"}');
      const id = await agentRequest<{ hostname: string }>(env, gc!, 'identity');
      expect(id.hostname).toBe(gc!.name);
      await gc!.delete();
      await b2.discard();
      expect(existsSync(join(env.statePath, 'vms', b2.uuid))).toBe(false);
    });
  });

  it('takes names with quotes, <, &, $(…) safely and refuses ../', async () => {
    await ev.check(['vms.bless', 'vms.launch'], 'names with quotes, <, &, $(…); ../ refused', async () => {
      const odd = `it's "<b>" & $(id)`;
      const b = await env.vms.bless(source.uuid, { name: `live ${odd}` });
      expect(b.name).toBe(`live ${odd}`);
      expect((await env.vms.get(b.name)).uuid).toBe(b.uuid);
      await expectCode(env.vms.bless(source.uuid, { name: '../etc/passwd' }), 'invalid_argument', /'\/'|'\.\.'/);
      await expectCode(b.launch({ name: 'a/../b' }), 'invalid_argument');
      // Without its overlay template (as an image blessed by an older version), qemu-img makes the overlay.
      rmSync(b.artifacts.disks[0]!.overlayTemplate!);
      const [c] = await b.launch({ name: `clone ${odd}` });
      env.uuids.add(c!.uuid);
      expect(virsh('domname', c!.uuid).trim()).toBe(`clone ${odd}`);
      expect((await agentRequest<{ hostname: string }>(env, c!, 'identity')).hostname).toBe('clone-it-s-b-id');
      expect(existsSync('/tmp/pwned')).toBe(false);
      await c!.delete();
      await b.discard();
      expect(existsSync(join(env.statePath, 'vms', b.uuid))).toBe(false);
    });
  });

  it('discards after the clones are deleted: every artifact goes; a second discard is harmless', async () => {
    await ev.check('vms.discard', 'discard removes every artifact; second discard harmless', async () => {
      await clones[0]!.delete();
      for (const c of clones) await env.vms.waitForStatus(c.uuid, 'DELETED', { timeoutMs: 30_000 });
      await blessed.discard();
      expect(existsSync(join(env.statePath, 'vms', blessed.uuid))).toBe(false);
      if (blessed.artifacts.ram) expect(existsSync(blessed.artifacts.ram)).toBe(false);
      for (const c of clones) expect(existsSync(join(env.runDir, c.uuid))).toBe(false);
      // Only the (still running) source's own RAM file remains (shared mode runs sources on one).
      expect(vmsLeftovers(env, clones.map((c) => c.uuid))).toEqual(mode === 'shared' ? [join(env.ramDir, 'live', `${source.uuid}.ram`)] : []);
      await blessed.discard();
      await env.vms.discard(blessed.uuid);
      await expectCode(env.vms.get(blessed.uuid), 'not_found');
    });
    await ev.check('vms.list', 'list-* of unknown ids', async () => {
      await expectCode(env.vms.listLaunched(blessed.uuid), 'not_found');
      await expectCode(env.vms.listBlessed('11111111-2222-4333-8444-555555555555'), 'not_found');
      expect(await env.vms.listBlessed(source.uuid)).toEqual([]);
    });
  });
});

}

function qemuImgInfo(path: string): Record<string, unknown> {
  return JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' })) as Record<string, unknown>;
}

function pidOf(name: string): number {
  return Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8'));
}

function readMaps(pid: number): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean);
}
