import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { hasErrorCode, type InstanceRef } from '@virtplug/core';
import type { LibvirtLiveImage } from '../../src/vms/vm-streaming.js';
import { guestImage } from '../helpers/env.js';
import { VmsEvidence } from './evidence.js';
import { agentRequest, bootSource, instanceFor, makeEnv, teardown, virsh, type VmsEnv } from './support.js';

jest.setTimeout(300_000);

const LAB = fileURLToPath(new URL('../../../../tools/lab/two-host.sh', import.meta.url));
const HOST_B = '10.77.0.2';
const URI_B = `qemu+tcp://${HOST_B}/system`;

const onB = (...args: string[]) => execFileSync('virsh', ['-c', URI_B, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
const onBOk = (...args: string[]) => {
  try {
    onB(...args);
    return true;
  } catch {
    return false;
  }
};

/** gc-migrate between the two libvirt hosts of the lab (tools/lab/two-host.sh), and its refusals. */
describe('VMS gc-migrate (two-host lab, real guests)', () => {
  let env: VmsEnv;
  let source: InstanceRef;
  let blessed: LibvirtLiveImage;
  const ev = new VmsEvidence('migrate');

  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => `${(e as { code?: string }).code}: ${(e as Error).message}`);

  beforeAll(async () => {
    try {
      execFileSync('bash', [LAB, 'up'], { stdio: 'pipe', timeout: 120_000 });
    } catch (e) {
      throw new Error(`The two-host lab did not come up (${(e as { stderr?: Buffer }).stderr?.toString() ?? e}); try: bash tools/lab/two-host.sh up`);
    }
    env = await makeEnv('mig', 'shared');
    source = await bootSource(env, 'vp-vms-mig-src');
  });

  afterAll(async () => {
    ev.write();
    if (env) {
      for (const u of env.uuids) {
        for (const args of [['destroy', u], ['undefine', u]]) onBOk(...args);
      }
    }
    await teardown(env);
    execFileSync('bash', [LAB, 'down'], { stdio: 'pipe', timeout: 120_000 });
    // down is idempotent too, and leaves no namespace or link behind
    execFileSync('bash', [LAB, 'down'], { stdio: 'pipe', timeout: 120_000 });
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain('vp-vms-hostb');
    expect(execFileSync('ip', ['link']).toString()).not.toContain('vpvms-a');
  });

  it('has a lab that is idempotent and reports itself', () => {
    // `up` again is a no-op; host B answers with its own host UUID and hostname.
    expect(execFileSync('bash', [LAB, 'up'], { stdio: 'pipe', timeout: 120_000 }).toString()).toMatch(/two-host lab: up/);
    expect(execFileSync('bash', [LAB, 'status'], { stdio: 'pipe' }).toString()).toMatch(/up \(B = qemu\+tcp:\/\/10\.77\.0\.2\/system/);
    expect(onB('hostname').trim()).toBe('vp-vms-hostb');
    const uuidOf = (caps: string) => /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(caps)?.[1];
    expect(uuidOf(onB('capabilities'))).not.toBe(uuidOf(virsh('capabilities')));
  });

  it('refuses the same host, an unknown host, a host without libvirt, a live image and a stopped instance', async () => {
    await ev.check('vms.migrate', 'gc-migrate refusals', async () => {
      expect(await codeOf(env.vms.migrate(source.uuid, '10.77.0.1'))).toMatch(/^invalid_argument: .*Unable to migrate to the same host/);
      expect(await codeOf(env.vms.migrate(source.uuid, 'localhost'))).toMatch(/^invalid_argument: .*same host/);
      expect(await codeOf(env.vms.migrate(source.uuid, 'no-such-host.invalid'))).toMatch(/^not_found: Host "no-such-host.invalid"/);
      expect(await codeOf(env.vms.migrate(source.uuid, '10.77.0.3'))).toMatch(/^hypervisor_unavailable: Cannot migrate to host 10\.77\.0\.3 because it is not running libvirt/);
      expect(await codeOf(env.vms.migrate(source.uuid, 'bad host;rm'))).toMatch(/^invalid_argument/);
      blessed = await env.vms.bless(source.uuid);
      expect(await codeOf(env.vms.migrate(blessed.uuid, HOST_B))).toMatch(/^invalid_state: .*is a live image/);
      const stopped = instanceFor(env, 'vp-vms-mig-stopped', 128);
      env.uuids.add(stopped.uuid);
      await env.driver.spawn(stopped, guestImage(), { powerOn: false });
      expect(await codeOf(env.vms.migrate(stopped.uuid, HOST_B))).toMatch(/^invalid_state: .*is not active/);
      await env.driver.destroy(stopped);
      // Nothing moved.
      expect(virsh('domstate', source.uuid).trim()).toBe('running');
      expect(onB('list', '--all', '--name').trim()).toBe('');
    });
  });

  it('live-migrates a launched clone; its live image cannot be discarded while it runs there', async () => {
    await ev.check(['vms.migrate', 'vms.discard'], 'clone migrated to host B; discard waits for it', async () => {
      const [clone] = await blessed.launch({ params: { where: 'A' } });
      env.uuids.add(clone!.uuid);
      const first = env.vms.migrate(clone!.uuid, HOST_B);
      // A second request while the first runs is refused.
      const lock = join(env.statePath, 'vms', '.locks', `${clone!.uuid}.lock`);
      const deadline = Date.now() + 30_000;
      while (!existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(await codeOf(env.vms.migrate(clone!.uuid, HOST_B))).toMatch(/^invalid_state: .*already being migrated/);
      await first;
      expect(onB('domstate', clone!.uuid).trim()).toBe('running');
      expect(() => virsh('domstate', clone!.uuid)).toThrow();
      // The guest moved with its memory: its agent answers on B with the clone's identity.
      const xml = onB('dumpxml', clone!.uuid);
      const sock = /<channel type='unix'>\s*<source mode='bind' path='([^']+)'/.exec(xml)![1]!;
      const agent = env.driver.internals().agentAt(sock, 'migrated clone');
      try {
        const id = await agent.request<{ hostname: string; macs: Record<string, string> }>('identity', {}, { timeoutMs: 30_000 });
        expect(id.hostname).toBe(clone!.name);
        expect(id.macs.eth0).toBe(clone!.macs[0]);
      } finally {
        await agent.close();
      }
      expect(await codeOf(blessed.discard())).toMatch(/^invalid_state: .*still has launched instances/);
      // gc must not touch the files a clone on host B still uses.
      await env.vms.gc();
      expect(existsSync(join(env.statePath, 'vms', blessed.uuid, 'clones', clone!.uuid))).toBe(true);
      onB('destroy', clone!.uuid);
      onB('undefine', clone!.uuid);
      await blessed.discard();
      expect(existsSync(join(env.statePath, 'vms', blessed.uuid))).toBe(false);
    });
  });

  it('live-migrates a shared-RAM source; it arrives with its own RAM', async () => {
    await ev.check(['vms.migrate', 'operation.live-migrate'], 'a running instance migrated live to host B, guest memory intact', async () => {
      // Kept only in guest RAM: it answers on B only if the memory moved with the running guest.
      await agentRequest(env, source, 'marker-set', { value: 'set-on-host-A' });
      const bootId = (await agentRequest<{ boot_id: string }>(env, source, 'identity')).boot_id;
      await env.vms.migrate(source.uuid, HOST_B);
      expect(onB('domstate', source.uuid).trim()).toBe('running');
      expect(onB('dumpxml', source.uuid)).toContain('memory-backend-ram');
      expect(() => virsh('domstate', source.uuid)).toThrow();
      const sock = /<channel type='unix'>\s*<source mode='bind' path='([^']+)'/.exec(onB('dumpxml', source.uuid))![1]!;
      const agent = env.driver.internals().agentAt(sock, 'migrated source');
      try {
        expect((await agent.request<{ value: string }>('marker-get', {}, { timeoutMs: 30_000 })).value).toBe('set-on-host-A');
        expect((await agent.request<{ boot_id: string }>('identity', {}, { timeoutMs: 30_000 })).boot_id).toBe(bootId);
      } finally {
        await agent.close();
      }
      // The template's RAM file on this host goes with the next gc.
      await env.vms.gc();
      expect(existsSync(join(env.ramDir, 'live', `${source.uuid}.ram`))).toBe(false);
      onB('destroy', source.uuid);
      onB('undefine', source.uuid);
      expect(hasErrorCode(await env.vms.get(source.uuid).catch((e: unknown) => e), 'not_found')).toBe(true);
    });
  });
});
