import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { HttpAgentClient } from '../src/index.js';
import { REPO, iohypLeftovers, labDown, labUp, nbdRead, type LabFacts } from './support/lab.js';

/**
 * A second agent on the lab's IOhyp host with the other exporter (qemu-nbd) and a file backend, driven
 * over HTTP without a guest: the compute host writes through the export with qemu-io and the bytes
 * are checked in the file. Then the agent restarts and still knows its export.
 */
const T = 120_000;
const PORT = 8687;
let facts: LabFacts;
let dir: string;
let client: HttpAgentClient;

async function startAgent(): Promise<number> {
  const log = `${dir}/agent.log`;
  const p = execa('ip', ['netns', 'exec', facts.namespaces.iohyp, 'node', '--conditions=development', '--import', 'tsx', `${REPO}packages/iohyp/bin/virtplug-iohyp-agent.js`, '--config', `${dir}/agent.conf`], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
    reject: false,
  });
  p.unref();
  for (let i = 0; i < 100; i++) {
    if ((await client.status().catch(() => null)) !== null) return p.pid!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`second agent did not start; see ${log}`);
}

let pid = 0;
beforeAll(async () => {
  facts = await labUp();
  dir = `${facts.run}/agent2`;
  mkdirSync(`${dir}/vols`, { recursive: true });
  writeFileSync(
    `${dir}/agent.conf`,
    [
      '[DEFAULT]',
      `state_path = ${dir}`,
      '[iohyp]',
      `token_file = ${facts.agent.tokenFile}`,
      `listen = 10.88.0.1:${PORT}`,
      'agent_name = hyp2',
      `ovs_db = ${facts.ovs.iohyp.db}`,
      `ovs_bridge = ${facts.ovs.iohyp.bridge}`,
      'exporter = qemu-nbd',
      'nbd_port_min = 10800',
      'nbd_port_max = 10899',
      `file_roots = ${dir}/vols`,
    ].join('\n') + '\n',
  );
  await execa('truncate', ['-s', '16M', `${dir}/vols/file1.img`]);
  client = new HttpAgentClient('hyp2', `http://10.88.0.1:${PORT}`, readFileSync(facts.agent.tokenFile, 'utf8').trim());
  pid = await startAgent();
}, T);

afterAll(async () => {
  if (pid) await execa('kill', [String(pid)], { reject: false });
  await labDown();
}, T);

it('exports a file with qemu-nbd on VLAN 200, keeps it across an agent restart, and removes it without a trace', async () => {
  const seg = { type: 'vlan' as const, id: 200 };
  await expect(client.connectBackend('f-out', { type: 'file', path: '/etc/passwd', format: 'raw' })).rejects.toMatchObject({ message: expect.stringMatching(/file_roots/) });
  await expect(client.connectBackend('f-dots', { type: 'file', path: `${dir}/vols/../agent.conf`, format: 'raw' })).rejects.toMatchObject({ details: { httpStatus: 400 } });
  const b = await client.connectBackend('f1', { type: 'file', path: `${dir}/vols/file1.img`, format: 'raw' });
  expect(b).toMatchObject({ type: 'file', sizeBytes: 16 << 20 });
  const port = await client.ensureSegmentPort(seg, '10.88.200.1/24', 'f1');
  expect(port).toMatchObject({ iface: 'iov200', backend: 'ovs' });
  const e = await client.createExport({ id: 'f1', backendId: 'f1', segment: seg, name: 'file1', allow: ['10.88.200.2'] });
  expect(e).toMatchObject({ exporter: 'qemu-nbd', host: '10.88.200.1', alive: true });

  const w = await execa('qemu-io', ['-f', 'raw', '-c', 'write -P 0x7e 65536 8192', `nbd://${e.host}:${e.port}/${e.name}`], { reject: false });
  expect(w.exitCode).toBe(0);
  expect([...readFileSync(`${dir}/vols/file1.img`).subarray(65536, 65536 + 8192)].every((x) => x === 0x7e)).toBe(true);
  // VLAN 100's peer has an address in 10.88.100.0/24 only: no way onto VLAN 200.
  expect((await nbdRead(facts.namespaces.peerVlan100, e.host, e.port, e.name)).ok).toBe(false);

  await execa('kill', [String(pid)]);
  pid = await startAgent();
  const after = await client.status();
  expect(after.exports).toEqual([expect.objectContaining({ id: 'f1', port: e.port, alive: true })]);
  expect((await nbdRead('-', e.host, e.port, e.name)).ok).toBe(true);

  expect(await client.removeExport('f1')).toEqual({ removed: true });
  expect(await nbdRead('-', e.host, e.port, e.name)).toMatchObject({ ok: false, output: expect.stringMatching(/refused/) });
  expect(await client.releaseSegmentPort(seg, 'f1')).toEqual({ removed: true, holders: 0 });
  expect(await client.disconnectBackend('f1')).toEqual({ removed: true });
  expect(await iohypLeftovers(facts)).toEqual([]);
}, T);
