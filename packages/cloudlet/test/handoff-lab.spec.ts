/**
 * Handoff between two libvirt hosts: host A (this machine's libvirtd) and host B of the two-host lab
 * (tools/lab/two-host.sh: its own libvirtd in a network namespace at 10.77.0.2, its own base copy).
 * The receiver runs inside B's namespace, over HTTPS (tools/lab/pki.sh); the sender here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hasGuestAgent, loadDriver, type ComputeDriver, type InstanceRef } from '@virtplug/core';
import type { BaseRecord } from '../src/base/store.js';
import { agentCall, boot, destroyRun, liveEnv, removeState, tag as newTag, type LiveEnv } from './helpers/live.js';

const T = newTag();
const NS = 'vp-vms-hostb';
const URI_B = 'qemu+tcp://10.77.0.2/system';
let env: LiveEnv;
let driverB: ComputeDriver | null = null;
let receiver: ChildProcess | null = null;
let receiverUrl = '';
let base: BaseRecord;
let src: InstanceRef;
const token = randomBytes(16).toString('hex');

const LAB = fileURLToPath(new URL('../../../tools/lab/two-host.sh', import.meta.url));
const PKI = fileURLToPath(new URL('../../../tools/lab/pki.sh', import.meta.url));
let pki = '';

/** Brings the two-host lab up (idempotent); the suite takes it down again. */
function requireLab(): void {
  try {
    execFileSync('bash', [LAB, 'up'], { stdio: 'pipe', timeout: 120_000 });
    execFileSync('virsh', ['-c', URI_B, 'version'], { stdio: 'pipe', timeout: 15_000 });
  } catch (e) {
    throw new Error(`Host B of the two-host lab does not answer at ${URI_B} (${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}); try: bash tools/lab/two-host.sh up`);
  }
}

function domainsOnB(): string[] {
  return execFileSync('virsh', ['-c', URI_B, 'list', '--all', '--name'], { stdio: 'pipe' }).toString().split('\n').map((s) => s.trim()).filter((n) => n.includes(T));
}

beforeAll(async () => {
  requireLab();
  // Host B's receiver speaks HTTPS only, with a certificate for its lab address signed by a throwaway CA
  // that only this cloudlet trusts ([cloudlet] tls_ca_file).
  const state = mkdtempSync(join('/var/tmp', `vp-cl-lab-${T}-`));
  pki = join(state, 'pki');
  execFileSync('bash', [PKI, pki, '10.77.0.2'], { stdio: 'pipe' });
  env = await liveEnv(`lab-${T}`, { tls_ca_file: join(pki, 'ca.pem') }, state);
  const origin = await boot(env.driver, `vp-cl-labsrc-${T}`);
  base = await env.cloudlet.createBase(origin, `vp-cl-lab-${T}`);
  await env.driver.destroy(origin);
  // The VM handed off: an instance this cloudlet resumed from the base, then changed in memory.
  src = await env.cloudlet.resumeBase(base.id, { name: `vp-cl-labvm-${T}` });
  await agentCall(env.driver, src, 'marker-set', { value: `lab-${T}` });
  const pkg = join(env.statePath, 'base.tar');
  await env.cloudlet.exportBase(base.id, pkg);
  const tokenFile = join(env.statePath, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  receiver = spawn('ip', ['netns', 'exec', NS, process.execPath, '--conditions=development', '--import', 'tsx', join(process.cwd(), 'test/helpers/receiver-child.ts'), join(env.statePath, 'hostb'), join(env.statePath, 'hostb', 'cloudlet'), URI_B, '10.77.0.2', '0', pkg, tokenFile, `/dev/shm/vp-cl-labb-${T}`, join(pki, 'agent.pem'), join(pki, 'agent.key')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  receiver.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  receiverUrl = await new Promise<string>((resolve, reject) => {
    receiver!.stdout!.on('data', (c: Buffer) => {
      const m = /"url":"([^"]+)"/.exec(c.toString());
      if (m) resolve(m[1]!);
    });
    receiver!.on('exit', (code) => reject(new Error(`receiver on host B exited (${code}): ${err.slice(-800)}`)));
  });
  driverB = await loadDriver({ computeDriver: 'libvirt', statePath: join(env.statePath, 'hostb'), logLevel: 'silent', libvirt: { connection_uri: URI_B, vms_mode: 'shared', event_poll_interval: 0 } });
}, 300_000);

afterAll(async () => {
  receiver?.kill('SIGTERM');
  if (receiver) await new Promise((r) => setTimeout(r, 1000));
  if (driverB) {
    await destroyRun(null, T);
    for (const name of domainsOnB()) {
      for (const a of [['destroy', name], ['undefine', name]]) {
        try {
          execFileSync('virsh', ['-c', URI_B, ...a], { stdio: 'pipe' });
        } catch {
          // gone
        }
      }
    }
    await driverB.close();
  }
  rmSync(`/dev/shm/vp-cl-labb-${T}`, { recursive: true, force: true });
  execFileSync('bash', [LAB, 'down'], { stdio: 'pipe', timeout: 120_000 });
  if (env) {
    await destroyRun(env.driver, T);
    await env.close();
    await removeState(env.statePath);
  }
}, 120_000);

describe('handoff to host B of the two-host lab', () => {
  it('refuses a wrong token, an untrusted certificate and plain HTTP with both hosts unchanged, then moves the VM to B over HTTPS with its memory', async () => {
    expect(receiverUrl).toMatch(/^https:\/\/10\.77\.0\.2:/);
    // Trusting another CA only, the sender refuses the receiver's certificate, and says what to set.
    const other = join(env.statePath, 'pki-other');
    execFileSync('bash', [PKI, other, '10.77.0.2'], { stdio: 'pipe' });
    const ca = readFileSync(join(other, 'ca.pem'), 'utf8');
    await expect(env.cloudlet.handoff(src, { url: receiverUrl, token, ca, name: `vp-cl-labdst-${T}` })).rejects.toMatchObject({ code: 'operation_failed', message: expect.stringMatching(/TLS failed .*tls_ca_file/) });
    // Plain HTTP to the HTTPS-only receiver gets no answer (the token would otherwise cross in clear).
    await expect(env.cloudlet.handoff(src, { url: receiverUrl.replace(/^https:/, 'http:'), token, name: `vp-cl-labdst-${T}` })).rejects.toMatchObject({ code: 'operation_failed' });
    expect((await env.driver.getInfo(src)).state).toBe(1);
    expect(domainsOnB()).toEqual([]);
    await expect(env.cloudlet.handoff(src, { url: receiverUrl, token: 'wrong-token-0123456789abcdef', name: `vp-cl-labdst-${T}` })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await env.driver.getInfo(src)).state).toBe(1);
    expect(domainsOnB()).toEqual([]);

    const r = await env.cloudlet.handoff(src, { url: receiverUrl, token, name: `vp-cl-labdst-${T}` });
    process.stderr.write(`[lab handoff] ${JSON.stringify({ precopy_bytes: r.precopy_bytes, residue_bytes: r.residue_bytes, ...r.timings })}\n`);
    expect(domainsOnB()).toEqual([`vp-cl-labdst-${T}`]);
    const dest = { uuid: r.destination.instance.uuid, name: r.destination.instance.name };
    if (!driverB || !hasGuestAgent(driverB)) throw new Error('host B driver has no guest agent');
    // QEMU serves one client per agent channel: the receiver lets go of it when it stops.
    const exited = new Promise((r) => receiver!.once('exit', r));
    receiver!.kill('SIGTERM');
    await exited;
    receiver = null;
    expect((await driverB.guestAgent(dest).request<{ value: string }>('marker-get')).value).toBe(`lab-${T}`);
    expect(await env.driver.instanceExists(src)).toBe(false);
    expect(r.timings.downtime_ms).toBeGreaterThan(0);
  }, 240_000);
});
