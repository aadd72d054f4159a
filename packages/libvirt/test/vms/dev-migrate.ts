import { execFileSync } from 'node:child_process';
import { bootSource, makeEnv, teardown } from './support.js';

execFileSync('bash', ['/work/main/tools/lab/two-host.sh', 'up'], { stdio: 'inherit' });
const env = await makeEnv('devmig', 'shared');
try {
  const src = await bootSource(env, 'vp-vms-devmig-src');
  const b = await env.vms.bless(src.uuid);
  const [c] = await b.launch();
  env.uuids.add(c!.uuid);
  for (const [id, host] of [[src.uuid, '10.77.0.1'], [src.uuid, 'no-such-host.invalid'], [src.uuid, '10.77.0.3'], [b.uuid, '10.77.0.2']] as const) {
    const t = Date.now();
    await env.vms.migrate(id, host).then(() => console.log('unexpected ok'), (e) => console.log(host, Date.now() - t, (e as { code: string }).code, (e as Error).message));
  }
  let t = Date.now();
  await env.vms.migrate(c!.uuid, '10.77.0.2');
  console.log('migrated clone', Date.now() - t);
  console.log(execFileSync('virsh', ['-c', 'qemu+tcp://10.77.0.2/system', 'list', '--all']).toString());
  const xml = execFileSync('virsh', ['-c', 'qemu+tcp://10.77.0.2/system', 'dumpxml', c!.uuid]).toString();
  const sock = /<source mode='bind' path='([^']+agent[^']*)'/.exec(xml)![1]!;
  console.log(sock);
  const agent = env.driver.internals().agentAt(sock, 'migrated');
  console.log(await agent.request('identity'));
  await agent.close();
  await b.discard().catch((e) => console.log('discard:', (e as Error).message));
  t = Date.now();
  await env.vms.migrate(src.uuid, '10.77.0.2');
  console.log('migrated src', Date.now() - t);
} finally {
  for (const u of env.uuids) { try { execFileSync('virsh', ['-c', 'qemu+tcp://10.77.0.2/system', 'destroy', u], { stdio: 'ignore' }); } catch {} try { execFileSync('virsh', ['-c', 'qemu+tcp://10.77.0.2/system', 'undefine', u], { stdio: 'ignore' }); } catch {} }
  await teardown(env);
  execFileSync('bash', ['/work/main/tools/lab/two-host.sh', 'down'], { stdio: 'inherit' });
}
