// The main job (`npm run demo`): one narrated end-to-end run on the default configuration, through the
// library exactly as orchestration code would use it. Exits non-zero naming the failed step; cleans
// up either way unless --keep.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildMatrix,
  builtinDriverNames,
  hasGuestAgent,
  hasVmStreaming,
  loadDriver,
  loadDriverModule,
  powerStateName,
  readEvidenceDir,
  type ComputeDriver,
  type GuestAgentAccess,
  type InstanceRef,
  type LiveImage,
  type VmStreaming,
} from '@virtplug/core';
import { Cloudlet, settingsFrom } from '@virtplug/cloudlet';
import { StepFailed, step, totalElapsed } from './steps.js';
import { projectGuestImage } from '@virtplug/libvirt';
import { identity, readHookLog } from './guest.js';
import { demoBridge } from './network.js';

const keep = process.argv.includes('--keep');
const repo = new URL('../../', import.meta.url).pathname;
type Driver = ComputeDriver & GuestAgentAccess & { vms: VmStreaming };

const cleanups: Array<[string, () => Promise<unknown>]> = [];
const later = (what: string, fn: () => Promise<unknown>) => cleanups.unshift([what, fn]);

async function main(): Promise<void> {
  console.log('virtplug demo: VM streaming and cloudlets on the local libvirtd (TCG guests)');
  const loaded = await step('load the libvirt driver from configuration', async (say) => {
    const d = await loadDriver({ computeDriver: 'libvirt', libvirt: { connection_uri: 'qemu:///system', virt_type: 'qemu' } });
    later('close the driver', () => d.close());
    const host = await d.getHostInfo();
    say(`${host.hypervisorType} ${host.hypervisorVersion} on ${host.hostname}; ${Object.entries(host.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return d;
  });
  if (!hasVmStreaming(loaded) || !hasGuestAgent(loaded)) throw new Error('the libvirt driver offers no VM streaming or guest agent');
  const driver = loaded as Driver;
  const tag = randomUUID().slice(0, 6);

  const bridge = await demoBridge(`vpdemo${tag.slice(0, 6)}`);
  later('remove the demo bridge', () => bridge.remove());

  const source = await step('boot a guest from the project image', async (say) => {
    const ref = {
      uuid: randomUUID(),
      name: `vp-demo-${tag}`,
      flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 },
      networkInfo: bridge.networkInfo(),
    };
    later(`delete ${ref.name}`, () => driver.destroy(ref));
    const t0 = Date.now();
    await driver.spawn(ref, projectGuestImage());
    await driver.guestAgent(ref).waitReady(90_000);
    const id = await identity(driver, ref);
    say(`${ref.name} is ${powerStateName((await driver.getInfo(ref)).state)}; agent answered after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    say(`hostname ${id.hostname}, MAC ${id.mac}, boot ${id.bootId.slice(0, 8)}`);
    return ref;
  });

  const blessed = await step(`bless ${source.name} into a live image`, async (say) => {
    const live = await driver.vms.bless(source.uuid);
    later(`discard ${live.name}`, () => driver.vms.discard(live.uuid));
    say(`live image ${live.name} (${live.uuid.slice(0, 8)}), status ${live.status}, mode ${live.mode}, blessed_from=${live.blessedFrom.slice(0, 8)}`);
    say(`the source was paused for ${live.pauseMs ?? '?'} ms and is ${powerStateName((await driver.getInfo(source)).state)} again`);
    return live as LiveImage;
  });

  const params = { role: 'web', greeting: `hello <clone> & 'friends' $(id)` };
  const clones = await step('launch 3 clones with --params', async (say) => {
    const t0 = Date.now();
    const launched = await blessed.launch({ count: 3, params });
    for (const c of launched) later(`delete ${c.name}`, () => driver.destroy(c));
    say(`3 clones running ${((Date.now() - t0) / 1000).toFixed(1)} s after launch (a cold boot is several seconds under TCG)`);
    const seen = new Set<string>();
    for (const c of launched) {
      const id = await identity(driver, c);
      const log = await readHookLog(driver, c);
      const got = log.includes(`VMS_role=web`) && log.includes(`VMS_greeting=${params.greeting}`);
      say(`${c.name}: MAC ${id.mac}, hostname ${id.hostname}, machine-id ${id.machineId.slice(0, 8)}…, params ${got ? 'received' : 'MISSING'}`);
      if (!got) throw new Error(`clone ${c.name} did not receive its params; hook log: ${log}`);
      for (const v of [id.mac, id.hostname, id.machineId]) {
        if (seen.has(v)) throw new Error(`clone ${c.name} shares ${v} with another clone`);
        seen.add(v);
      }
    }
    say('every clone got the params and has its own MAC, hostname and machine-id');
    return launched;
  });

  await step('list-launched, a refused discard, delete the clones, discard', async (say) => {
    const listed = await blessed.listLaunched();
    say(`list-launched ${blessed.name}: ${listed.map((c) => c.name).join(', ')}`);
    const refused = await blessed.discard().then(() => undefined, (e: Error) => e);
    if (!refused) throw new Error('discard succeeded while clones were alive');
    say(`discard refused: ${refused.message}`);
    for (const c of clones) await c.delete();
    say(`deleted ${clones.length} clones`);
    await blessed.discard();
    say(`discarded ${blessed.name}; the source ${source.name} is still ${powerStateName((await driver.getInfo(source)).state)}`);
  });

  await step('cloudlet: base, customize, overlay, serve over HTTP, synthesize from the URL', async (say) => {
    const cloudlet = new Cloudlet(driver, settingsFrom({ base_dir: join('/var/lib/virtplug', 'demo-cloudlet', tag) }));
    later('remove the demo cloudlet store', async () => {
      await cloudlet.close();
      rmSync(join('/var/lib/virtplug', 'demo-cloudlet', tag), { recursive: true, force: true });
    });
    const base = await cloudlet.createBase(source, `demo-base-${tag}`);
    say(`base ${base.id.slice(0, 12)}… captured from ${source.name}`);
    const resumed = await cloudlet.resumeBase(base.id, { name: `vp-demo-${tag}-custom` });
    later(`delete ${resumed.name}`, () => cloudlet.destroyInstance(resumed));
    const marker = `marker-${randomBytes(6).toString('hex')}`;
    const agent = driver.guestAgent(resumed);
    await agent.request('marker-set', { value: marker });
    await agent.request('write-file', { path: '/data/app/config.txt', data_b64: Buffer.from(`customized ${tag}\n`).toString('base64') });
    await agent.request('workload', { name: 'fill-memory', mib: 16 });
    say(`resumed ${resumed.name} from the base, then set marker ${marker}, wrote /data/app/config.txt, filled 16 MiB`);
    const dir = mkdtempSync(join(tmpdir(), 'vp-demo-overlay-'));
    later('remove the overlay', async () => rmSync(dir, { recursive: true, force: true }));
    const overlay = await cloudlet.createOverlay(resumed, { dest: join(dir, 'demo.overlay') });
    const st = overlay.manifest.stats;
    say(`overlay ${(overlay.bytes / 1024 / 1024).toFixed(1)} MiB in ${(overlay.ms / 1000).toFixed(1)} s: chunks zero ${st.zero}, base-mem ${st.base_mem}, base-disk ${st.base_disk}, self ${st.self}, xor-delta ${st.xor}, raw ${st.raw}`);
    const token = randomBytes(16).toString('hex');
    const server = await cloudlet.serve({ dir, token, host: '127.0.0.1', port: 0 });
    later('stop the overlay server', () => server.close());
    const url = `${server.url}/demo.overlay`;
    say(`serving ${url} (token required)`);
    const synth = await cloudlet.synthesize({ source: url, token, name: `vp-demo-${tag}-synth` });
    later(`delete ${synth.instance.name}`, () => cloudlet.destroyInstance(synth.instance));
    const agent2 = driver.guestAgent(synth.instance);
    const got = (await agent2.request<{ value: string | null }>('marker-get')).value;
    const file = Buffer.from((await agent2.request<{ data_b64: string }>('read-file', { path: '/data/app/config.txt' })).data_b64, 'base64').toString();
    say(`synthesized ${synth.instance.name} in ${(synth.timings.total_ms / 1000).toFixed(1)} s; marker ${got === marker ? 'survived' : `LOST (${got})`}; file says "${file.trim()}"`);
    if (got !== marker || file.trim() !== `customized ${tag}`) throw new Error('the synthesized VM is not the customized one');
  });

  await step('the capability matrix, with evidence', async (say) => {
    const modules = [];
    for (const name of builtinDriverNames()) {
      const m = await loadDriverModule(name);
      if (m.inMatrix !== false) modules.push(m);
    }
    const matrix = buildMatrix(modules, readEvidenceDir(join(repo, 'docs', 'evidence')));
    const mark = { 'verified-live': 'live', 'verified-replay': 'replay', declared: 'declared' } as const;
    say(`${'feature'.padEnd(40)} ${matrix.drivers.map((d) => d.name.padEnd(24)).join(' ')}`);
    for (const f of matrix.features) {
      const cells = matrix.drivers.map((d) => {
        const c = d.cells[f.id]!;
        return `${c.status}${c.status === 'missing' ? '' : ` (${mark[c.evidence.kind]})`}`.padEnd(24);
      });
      say(`${f.id.padEnd(40)} ${cells.join(' ')}`);
    }
    say('full report: npx virtplug matrix --format html --out matrix.html');
  });
}

let failed: unknown;
try {
  await main();
} catch (e) {
  failed = e;
} finally {
  if (keep) {
    console.log('\n--keep: leaving the VMs; `npx virtplug --driver libvirt list` shows them.');
  } else {
    for (const [what, fn] of cleanups) {
      await fn().catch((e: Error) => {
        if (!/could not be found|not a live image/.test(e.message)) console.log(`   (cleanup: ${what}: ${e.message})`);
      });
    }
  }
}
if (failed) {
  console.error(`\ndemo FAILED: ${failed instanceof StepFailed ? failed.message : String(failed)} (after ${totalElapsed()})`);
  process.exit(1);
}
console.log(`\ndemo finished in ${totalElapsed()}`);
process.exit(0);
