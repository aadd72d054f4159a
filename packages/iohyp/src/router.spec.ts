import { FakeDriver } from '@virtplug/core';
import { ATTACH_STEPS, type AttachStep } from './routes/record.js';
import { rankAgents } from './placement.js';
import { IMAGE, IO_FLAVOR, PLAIN_FLAVOR, instance, iscsiVolume, unitRig, vlanNic, type UnitRig } from './testing/fixtures.js';
import { LocalAgentClient } from './agent/client.js';
import { IoHypRouter } from './router.js';
import { pino } from 'pino';
import type { IoHypAgentApi } from './agent/client.js';
import { removeTempDirs } from './testing/in-memory.js';

afterAll(() => removeTempDirs());

async function agentEmpty(rig: UnitRig): Promise<void> {
  for (const [, a] of rig.agents) {
    const s = await a.service.status();
    expect({ backends: s.backends, exports: s.exports, ports: s.ports }).toEqual({ backends: [], exports: [], ports: [] });
    expect(a.exporter.running.size).toBe(0);
    expect(a.acl.rules.size).toBe(0);
    expect(a.segments.ports.size).toBe(0);
  }
}

describe('IoHypRouter', () => {
  let fake: FakeDriver;
  beforeEach(() => {
    fake = new FakeDriver();
  });

  it('sends volumes of instances without io:enabled=1 down the plain path', async () => {
    const rig = unitRig(fake);
    const vm = instance(PLAIN_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const vol = iscsiVolume();
    await rig.router.attachVolume(vm, vol, '/dev/vdb');
    expect(fake.attachedVolumes(vm).get('/dev/vdb')).toEqual(vol);
    expect(rig.router.listRoutes()).toEqual([]);
    await agentEmpty(rig);
    await rig.router.detachVolume(vm, vol, '/dev/vdb');
    expect(fake.attachedVolumes(vm).size).toBe(0);
  });

  it('routes an io:enabled=1 instance: backend, segment port, export with ACL, NBD disk, record', async () => {
    const rig = unitRig(fake);
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const vol = iscsiVolume('vol-0001');
    await rig.router.attachVolume(vm, vol, '/dev/vdb');

    const [route] = rig.router.listRoutes();
    expect(route).toMatchObject({
      volumeId: 'vol-0001',
      instance: { uuid: vm.uuid, name: vm.name },
      iohypHost: 'hyp1',
      segment: { type: 'vlan', id: 100 },
      networkId: 'net-100',
      guest: { mac: '52:54:00:00:01:10', ip: '10.88.100.10' },
      backend: { type: 'iscsi', url: 'iscsi://10.88.1.1:3260/iqn.2026-11.io.virtplug.lab:vol1/1', chap: true },
      segmentPort: { iface: 'mem100', address: '10.88.100.254/24' },
      export: { host: '10.88.100.254', port: 10900, name: 'vol-vol-0001', allow: ['10.88.100.10', '10.88.100.2'] },
      device: '/dev/vdb',
      state: 'attached',
      done: [...ATTACH_STEPS],
    });
    expect(fake.attachedVolumes(vm).get('/dev/vdb')).toEqual({
      driverVolumeType: 'nbd',
      volumeId: 'vol-0001',
      data: { host: '10.88.100.254', port: 10900, exportName: 'vol-vol-0001' },
    });
    const agent = rig.agents.get('hyp1')!;
    expect(agent.connector.connected[0]).toMatchObject({ type: 'iscsi', chap: { username: 'u', password: 'secret-pw-123' } });
    expect(agent.acl.rules.get(10900)).toEqual({ exportId: route!.attachmentId, iface: 'mem100', allow: ['10.88.100.10', '10.88.100.2'] });
    expect(JSON.stringify(rig.router.listRoutes())).not.toContain('secret-pw-123');

    await rig.router.detachVolume(vm, vol, '/dev/vdb');
    expect(rig.router.listRoutes()).toEqual([]);
    expect(fake.attachedVolumes(vm).size).toBe(0);
    await agentEmpty(rig);
  });

  it('keeps the opt-in and the routes across a restart of the router', async () => {
    const rig = unitRig(fake);
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const restarted = unitRig(fake, { stateDir: rig.stateDir });
    const vol = iscsiVolume();
    await restarted.router.attachVolume({ uuid: vm.uuid, name: vm.name }, vol, '/dev/vdc');
    expect(fake.attachedVolumes(vm).get('/dev/vdc')?.driverVolumeType).toBe('nbd');
    const again = unitRig(fake, { stateDir: rig.stateDir });
    expect(again.router.listRoutes()).toHaveLength(1);
    await again.router.detachVolume(vm, vol, '/dev/vdc');
    expect(fake.attachedVolumes(vm).size).toBe(0);
  });

  it('refcounts the segment port: it goes when the last export on the segment goes', async () => {
    const rig = unitRig(fake);
    const a = instance(IO_FLAVOR, vlanNic(100, '10.88.100.10'));
    const b = instance(IO_FLAVOR, vlanNic(100, '10.88.100.11', '52:54:00:00:01:11'));
    await rig.router.spawn(a, IMAGE);
    await rig.router.spawn(b, IMAGE);
    const va = iscsiVolume();
    const vb = iscsiVolume();
    await rig.router.attachVolume(a, va, '/dev/vdb');
    await rig.router.attachVolume(b, vb, '/dev/vdb');
    const agent = rig.agents.get('hyp1')!;
    expect((await agent.service.status()).ports).toEqual([expect.objectContaining({ segment: { type: 'vlan', id: 100 }, holders: expect.arrayContaining(rig.router.listRoutes().map((r) => r.attachmentId)) })]);
    await rig.router.detachVolume(a, va, '/dev/vdb');
    expect(agent.segments.ports.has('vlan:100')).toBe(true);
    expect((await agent.service.status()).ports[0]!.holders).toHaveLength(1);
    await rig.router.detachVolume(b, vb, '/dev/vdb');
    await agentEmpty(rig);
  });

  describe.each(ATTACH_STEPS.flatMap((s) => [[s, 'before'], [s, 'after']] as Array<[AttachStep, 'before' | 'after']>))('a failure at step %s (%s it runs)', (step, phase) => {
    it('leaves nothing behind and names the step', async () => {
      const rig = unitRig(fake, {
        faults: (s, p) => {
          if (s === step && p === phase) throw new Error(`injected fault at ${s}`);
        },
      });
      const vm = instance(IO_FLAVOR);
      await rig.router.spawn(vm, IMAGE);
      const err = (await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb').catch((e: unknown) => e)) as { code: string; message: string; details: Record<string, unknown> };
      expect(err.code).toBe('operation_failed');
      expect(err.details.step).toBe(step);
      expect(err.message).toContain(`failed at step "${step}": injected fault at ${step}`);
      expect(err.details.notUndone).toEqual([]);
      expect(rig.router.listRoutes()).toEqual([]);
      expect(fake.attachedVolumes(vm).size).toBe(0);
      expect(rig.router.optIns.get(vm.uuid)?.iohypHost).toBeUndefined();
      await agentEmpty(rig);
    });
  });

  it('reports a real backend failure as the connect-backend step', async () => {
    const rig = unitRig(fake);
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    await expect(rig.router.attachVolume(vm, iscsiVolume(undefined, 'iqn.2026-11.io.virtplug.lab:missing'), '/dev/vdb')).rejects.toMatchObject({
      details: { step: 'connect-backend', undone: ['choose-host'] },
    });
    await agentEmpty(rig);
  });

  it('undoes the export when the wrapped driver refuses the disk', async () => {
    const rig = unitRig(fake);
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    await fake.attachVolume(vm, { driverVolumeType: 'file', volumeId: 'other', data: { path: '/x' } }, '/dev/vdb'); // device taken behind the router's back
    const err = await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb').catch((e: unknown) => e);
    expect(err).toMatchObject({ details: { step: 'attach-disk', causeCode: 'conflict', undone: ['export', 'segment-port', 'connect-backend', 'choose-host'] } });
    await agentEmpty(rig);
  });

  it('keeps what it could not undo in an error record, and gc finishes it', async () => {
    let failRelease = true;
    const rig = unitRig(fake, { faults: (s, p) => { if (s === 'export' && p === 'after') throw new Error('boom'); } });
    const agent = rig.agents.get('hyp1')!;
    const release = agent.service.releaseSegmentPort.bind(agent.service);
    agent.service.releaseSegmentPort = async (seg, holder) => {
      if (failRelease) throw new Error('ovs-vsctl: database connection failed');
      return release(seg, holder);
    };
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const err = (await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb').catch((e: unknown) => e)) as Error & { details: Record<string, unknown> };
    expect(err.message).toMatch(/NOT undone: segment-port \(ovs-vsctl: database connection failed\)/);
    const [left] = rig.router.listRoutes();
    expect(left).toMatchObject({ state: 'error', done: ['segment-port'], error: { step: 'undo:segment-port' } });
    failRelease = false;
    const report = await rig.router.gc();
    expect(report.routes).toEqual([expect.objectContaining({ reason: 'state error', undone: ['segment-port'], failed: [] })]);
    expect(rig.router.listRoutes()).toEqual([]);
    await agentEmpty(rig);
  });

  it('gc removes agent-side leftovers that no record names', async () => {
    const rig = unitRig(fake);
    const agent = rig.agents.get('hyp1')!;
    await agent.service.connectBackend('stray', { type: 'iscsi', portal: '10.88.1.1:3260', iqn: 'iqn.2026-11.io.virtplug.lab:vol1', lun: 1 });
    await agent.service.ensureSegmentPort({ type: 'vlan', id: 100 }, '10.88.100.1/24', 'stray');
    await agent.service.createExport('stray', 'stray', { type: 'vlan', id: 100 }, 'stray', null);
    const report = await rig.router.gc();
    expect(report.orphans.map((o) => [o.kind, o.removed])).toEqual([['export', true], ['port-holder', true], ['backend', true]]);
    await agentEmpty(rig);
  });

  it('chooses the IOhyp by rendezvous hashing and keeps it for the instance', async () => {
    const rig = unitRig(fake, { agents: 3 });
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const expected = rankAgents(vm.uuid, [{ name: 'hyp1' }, { name: 'hyp2' }, { name: 'hyp3' }])[0]!.name;
    await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb');
    expect(rig.router.listRoutes()[0]!.iohypHost).toBe(expected);
    expect(rig.router.optIns.get(vm.uuid)?.iohypHost).toBe(expected);
    // Another router with the agents listed in another order still lands on the same IOhyp.
    const settings = rig.router['options'].settings;
    const reordered = new IoHypRouter(fake, {
      settings: { ...settings, agents: [...settings.agents].reverse() },
      agents: new Map([...rig.agents].map(([n, a]) => [n, new LocalAgentClient(n, a.service)])),
      logger: pino({ level: 'silent' }),
    });
    await reordered.attachVolume(vm, iscsiVolume(), '/dev/vdc');
    expect(reordered.listRoutes().map((r) => r.iohypHost)).toEqual([expected, expected]);
  });

  it('skips an unreachable IOhyp when choosing, and sticks to the one it chose', async () => {
    const rig = unitRig(fake, { agents: 2 });
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    const first = rankAgents(vm.uuid, [{ name: 'hyp1' }, { name: 'hyp2' }])[0]!.name;
    const second = first === 'hyp1' ? 'hyp2' : 'hyp1';
    const down: IoHypAgentApi = { ...new LocalAgentClient(first, rig.agents.get(first)!.service), name: first, status: () => Promise.reject(new Error('ECONNREFUSED')) } as IoHypAgentApi;
    const clients = new Map<string, IoHypAgentApi>([[first, down], [second, new LocalAgentClient(second, rig.agents.get(second)!.service)]]);
    const router = new IoHypRouter(fake, { settings: rig.router['options'].settings, agents: clients, logger: pino({ level: 'silent' }) });
    await router.attachVolume(vm, iscsiVolume(), '/dev/vdb');
    expect(router.listRoutes()[0]!.iohypHost).toBe(second);
  });

  it('tears the routes down with the instance', async () => {
    const rig = unitRig(fake);
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb');
    await rig.router.destroy(vm);
    expect(rig.router.listRoutes()).toEqual([]);
    expect(rig.router.isRouted(vm)).toBe(false);
    await agentEmpty(rig);
  });

  it('refuses what it cannot route before touching anything', async () => {
    const rig = unitRig(fake);
    const flat = instance(IO_FLAVOR, [{ id: 'p', address: '52:54:00:00:00:01', network: { id: 'flat', label: 'flat', segmentType: 'flat' } }]);
    await rig.router.spawn(flat, IMAGE);
    await expect(rig.router.attachVolume(flat, iscsiVolume(), '/dev/vdb')).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/VLAN or VXLAN/) });
    const vm = instance(IO_FLAVOR);
    await rig.router.spawn(vm, IMAGE);
    await expect(rig.router.attachVolume(vm, iscsiVolume(), '/dev/../etc')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(rig.router.attachVolume(vm, { driverVolumeType: 'nbd', volumeId: 'n', data: { host: 'h', port: 1 } }, '/dev/vdb')).rejects.toMatchObject({
      details: { step: 'connect-backend' },
    });
    await expect(rig.router.swapVolume(vm, iscsiVolume(), iscsiVolume(), '/dev/vdb')).rejects.toMatchObject({ code: 'unsupported' });
    await agentEmpty(rig);
  });

  it('routes over the named network of a multi-NIC instance (VXLAN here)', async () => {
    const rig = unitRig(fake, { section: { addresses: ['hyp1@vxlan:300=10.88.130.1/24'] } });
    const nics = [
      ...vlanNic(100),
      { id: 'port-300', address: '52:54:00:00:03:00', fixedIps: ['10.88.130.10'], network: { id: 'net-300', label: 'vx', segmentType: 'vxlan' as const, segmentationId: 300 } },
    ];
    const vm = { ...instance(IO_FLAVOR, nics), metadata: { 'io:network': 'net-300' } };
    await rig.router.spawn(vm, IMAGE);
    await rig.router.attachVolume(vm, iscsiVolume(), '/dev/vdb');
    expect(rig.router.listRoutes()[0]).toMatchObject({ segment: { type: 'vxlan', id: 300 }, export: { host: '10.88.130.1', allow: ['10.88.130.10'] } });
  });
});
