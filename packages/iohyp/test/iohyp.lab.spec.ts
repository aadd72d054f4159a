import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { EvidenceRecorder, httpRequest, loadConfigFile, loadDriver, writeEvidence, type ComputeDriver, type Instance, type IscsiConnectionInfo, type VirtplugConfig } from '@virtplug/core';
import { ATTACH_STEPS, HttpAgentClient, wrapWithIoHyp, type IoHypRouter } from '../src/index.js';
import { agentOf, destroyLeftoverDomains, deviceBySerial, guestDisks, guestImage, ioInstance, labNic, leftoverDomains } from './support/guest.js';
import { REPO, backingBytes, chap, iohypLeftovers, labDown, labUp, nbdRead, type LabFacts } from './support/lab.js';

/**
 * The real chain on the three-host lab: libvirt TCG guest -> NBD over the tenant segment -> IOhyp agent
 * (qemu-storage-daemon, OVS netdev / VXLAN, nftables ACL) -> libiscsi -> tgtd on the storage host.
 * Writes docs/evidence/iohyp.json from what actually passed.
 */
const evidence = new EvidenceRecorder();
const T = 180_000;
let facts: LabFacts;
let cfg: VirtplugConfig;
let router: IoHypRouter;
let io: Instance;

function iscsi(volume: 'vol1' | 'vol2', withChap: boolean): IscsiConnectionInfo {
  const c = chap(facts);
  return {
    driverVolumeType: 'iscsi',
    volumeId: `vpio-${randomUUID().slice(0, 8)}`,
    data: {
      targetPortal: facts.storage.portal,
      targetIqn: `${facts.storage.iqnPrefix}:${volume}`,
      targetLun: 1,
      ...(withChap ? { authMethod: 'CHAP' as const, authUsername: c.username, authPassword: c.password } : {}),
    },
  };
}

async function nothingLeft(instance: Instance, serial?: string): Promise<void> {
  expect(router.listRoutes()).toEqual([]);
  expect(await iohypLeftovers(facts)).toEqual([]);
  const status = await new HttpAgentClient('hyp1', facts.agent.url, readFileSync(facts.agent.tokenFile, 'utf8').trim(), 60_000, { ca: readFileSync(facts.agent.caFile, 'utf8') }).status();
  expect({ backends: status.backends, exports: status.exports, ports: status.ports }).toEqual({ backends: [], exports: [], ports: [] });
  if (serial) expect(await guestDisks(agentOf(router, instance))).not.toContain(serial);
}

/** Records the test's outcome for `features` in the evidence file. */
function live(features: string[], name: string, fn: () => Promise<void>) {
  it(
    name,
    async () => {
      try {
        await fn();
        for (const f of features) evidence.record(f, 'pass', undefined, name);
      } catch (e) {
        for (const f of features) evidence.record(f, 'fail', (e as Error).message.slice(0, 300), name);
        throw e;
      }
    },
    T,
  );
}

/** Routes a volume, has the guest write a pattern through its agent, and reads it from the storage host. */
async function writeThrough(ci: IscsiConnectionInfo, volume: 'vol1' | 'vol2', mountpoint: string, networkId: string) {
  const route = await router.attachRouted(io, ci, mountpoint, { networkId });
  const agent = agentOf(router, io);
  const device = await deviceBySerial(agent, ci.volumeId);
  const pattern = randomBytes(64 * 1024);
  const offset = 3 * 1024 * 1024;
  await agent.request('disk-write', { device, offset, data_b64: pattern.toString('base64') });
  expect(backingBytes(facts, volume, offset, pattern.length).equals(pattern)).toBe(true);
  return { route, device };
}

beforeAll(async () => {
  await destroyLeftoverDomains();
  facts = await labUp();
  cfg = loadConfigFile(facts.config);
  // The documented way in: compute_driver = @virtplug/iohyp, [iohyp] wrap = libvirt.
  router = (await loadDriver(cfg)) as IoHypRouter;
  expect([router.name, router.wrappedName]).toEqual(['iohyp', 'libvirt']);
  io = ioInstance([labNic(facts, 'vlan100', '52:54:00:88:01:10'), labNic(facts, 'vxlan300', '52:54:00:88:03:10')], true, 'io');
  await router.spawn(io, guestImage());
  const agent = agentOf(router, io);
  await agent.waitReady(120_000);
  // The guest's own addresses on its segments (the NBD initiator is its host's QEMU; see docs/iohyp.md).
  await agent.request('set-identity', { iface: 'eth0', ip: facts.segments.vlan100!.guestAddress });
  await agent.request('set-identity', { iface: 'eth1', ip: facts.segments.vxlan300!.guestAddress });
}, T);

afterAll(async () => {
  try {
    if (router && io) await router.destroy(io).catch(() => undefined);
    await router?.close().catch(() => undefined);
    await destroyLeftoverDomains();
    const versions = await Promise.all([execa('qemu-img', ['--version'], { reject: false }), execa('ovs-vsctl', ['--version'], { reject: false })]);
    writeEvidence(`${REPO}docs/evidence`, 'iohyp', evidence.build('iohyp', 'live', {
      name: 'iohyp-lab: libvirt TCG guest, qemu-storage-daemon NBD, OVS netdev / kernel VXLAN, tgtd',
      version: versions[0]!.stdout.split('\n')[0] ?? '',
      details: { ovs: versions[1]!.stdout.split('\n')[0] ?? '', wrapped: 'libvirt' },
    }));
  } finally {
    await labDown();
  }
  expect(await leftoverDomains()).toEqual([]);
}, T);

describe('IOhyp routing on the three-host lab', () => {
  live(['iohyp.route-volume'], 'the agent speaks only HTTPS and refuses a missing or wrong token and unknown operations', async () => {
    const ca = readFileSync(facts.agent.caFile, 'utf8');
    const post = async (path: string, token?: string, url = facts.agent.url) => {
      const res = await httpRequest(`${url}${path}`, { method: 'POST', body: '{}', headers: token ? { Authorization: `Bearer ${token}` } : {}, timeoutMs: 10_000, ca });
      res.resume();
      return { status: res.statusCode };
    };
    const token = readFileSync(facts.agent.tokenFile, 'utf8').trim();
    expect(facts.agent.url).toMatch(/^https:/);
    await expect(post('/v1/ops/status', token, facts.agent.url.replace(/^https:/, 'http:'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await post('/v1/ops/status')).status).toBe(401);
    expect((await post('/v1/ops/status', 'not-the-token-at-all')).status).toBe(401);
    expect((await post('/v1/ops/run_command', 'not-the-token-at-all')).status).toBe(401);
    expect((await post('/v1/ops/run_command', token)).status).toBe(404);
    expect((await post('/v1/ops/status', token)).status).toBe(200);
    expect(readFileSync(`${facts.run}/agent.log`, 'utf8')).not.toContain(token);
  });

  live(['iohyp.route-volume', 'iohyp.segment.vlan'], 'routes a CHAP iSCSI volume over OVS VLAN 100; the guest writes land on the storage host', async () => {
    const ci = iscsi('vol1', true);
    const { route } = await writeThrough(ci, 'vol1', '/dev/vdb', 'vp-io-net-vlan100');
    expect(route).toMatchObject({
      state: 'attached',
      iohypHost: 'hyp1',
      segment: { type: 'vlan', id: 100 },
      segmentPort: { iface: 'iov100', address: '10.88.100.1/24', backend: 'ovs' },
      export: { host: '10.88.100.1', allow: ['10.88.100.10', '10.88.100.2'] },
      backend: { type: 'iscsi', chap: true },
      guest: { mac: '52:54:00:88:01:10', ip: '10.88.100.10' },
    });
    const e = route.export!;
    // The compute host reaches the export over the segment; nothing else does.
    expect((await nbdRead('-', e.host, e.port, e.name)).ok).toBe(true);
    const other = await nbdRead(facts.namespaces.peerVlan200, e.host, e.port, e.name);
    expect(other).toMatchObject({ ok: false, output: expect.stringMatching(/No route to host|timed out/) });
    const notAllowed = await nbdRead(facts.namespaces.peerVlan100, e.host, e.port, e.name);
    expect(notAllowed).toMatchObject({ ok: false, output: expect.stringMatching(/Connection refused/) });
    expect((await nbdRead(facts.namespaces.storage, e.host, e.port, e.name)).ok).toBe(false);
    expect(JSON.stringify(router.listRoutes())).not.toContain(chap(facts).password);

    const probes = (await router.agentStatus('hyp1')).segmentBackends;
    const kernel = probes.find((p) => p.name === 'vlan');
    evidence.record('iohyp.segment.vlan', 'pass', `mode ovs-netdev (802.1Q tags in the OVS userspace datapath); kernel 802.1Q here: ${kernel?.usable ? 'usable' : kernel?.reason}`);
    await router.detachVolume(io, ci, '/dev/vdb');
    await nothingLeft(io, ci.volumeId);
  });

  live(['iohyp.route-volume', 'iohyp.segment.vxlan'], 'routes a volume over VXLAN 300 (a restarted router still knows the opt-in)', async () => {
    router = wrapWithIoHyp(router.inner, cfg); // a fresh router over the same state dir
    const ci = iscsi('vol2', false);
    const { route } = await writeThrough(ci, 'vol2', '/dev/vdc', 'vp-io-net-vxlan300');
    expect(route).toMatchObject({ segment: { type: 'vxlan', id: 300 }, segmentPort: { iface: 'iox300', backend: 'vxlan' }, export: { host: '10.88.130.1' } });
    const e = route.export!;
    expect((await nbdRead(facts.namespaces.peerVni301, e.host, e.port, e.name))).toMatchObject({ ok: false, output: expect.stringMatching(/No route to host|timed out/) });
    await router.detachVolume(io, ci, '/dev/vdc');
    await nothingLeft(io, ci.volumeId);
  });

  live(['iohyp.route-volume'], 'a failure at each attach step leaves nothing behind and names the step', async () => {
    const inner = router.inner;
    for (const step of ATTACH_STEPS) {
      const faulty = wrapWithIoHyp(inner, cfg, {
        faults: (s, phase) => {
          if (s === step && phase === 'after') throw new Error(`injected failure after ${s}`);
        },
      });
      const ci = iscsi('vol1', true);
      const err = (await faulty.attachVolume(io, ci, '/dev/vdd').catch((e: unknown) => e)) as { code: string; message: string; details: Record<string, unknown> };
      expect([step, err.code, err.details.step, err.details.notUndone]).toEqual([step, 'operation_failed', step, []]);
      expect(err.message).toContain(`failed at step "${step}"`);
      router = faulty;
      await nothingLeft(io, ci.volumeId);
    }
  });

  live(['iohyp.route-volume'], 'an instance without io:enabled=1 goes through the plain path', async () => {
    const plain = ioInstance([labNic(facts, 'vxlan300', '52:54:00:88:03:20')], false, 'plain');
    await router.spawn(plain, guestImage());
    try {
      const agent = agentOf(router, plain);
      await agent.waitReady(120_000);
      const ci = iscsi('vol2', false);
      await router.attachVolume(plain, ci, '/dev/vdb');
      expect(router.listRoutes()).toEqual([]);
      expect(router.isRouted(plain)).toBe(false);
      const device = await deviceBySerial(agent, ci.volumeId);
      const pattern = randomBytes(4096);
      await agent.request('disk-write', { device, offset: 8 << 20, data_b64: pattern.toString('base64') });
      expect(backingBytes(facts, 'vol2', 8 << 20, 4096).equals(pattern)).toBe(true);
      expect(await iohypLeftovers(facts)).toEqual([]);
      await router.detachVolume(plain, ci, '/dev/vdb');
    } finally {
      await router.destroy(plain);
    }
  });
});
