import { bootSource, hookLog, makeEnv, teardown, vmsLeftovers } from './support.js';

const mode = (process.argv[2] ?? 'shared') as 'shared' | 'copy';
const env = await makeEnv('dev', mode);
try {
  let t = Date.now();
  const src = await bootSource(env, `vp-vms-dev-src`);
  console.log('boot', Date.now() - t);
  t = Date.now();
  const b = await env.vms.bless(src.uuid);
  console.log('bless', Date.now() - t, b.mode, b.pauseMs, b.name);
  t = Date.now();
  const clones = await b.launch({ params: { a: `q"'<&$(x)`, b: '../x' }, count: 2, target: '200mb' });
  console.log('launch', Date.now() - t, clones.map((c) => [c.name, c.launchMs, c.restoreMs, c.identity]));
  for (const c of clones) env.uuids.add(c.uuid);
  console.log(await hookLog(env, clones[0]!));
  console.log(await b.listLaunched());
  console.log(await env.driver.listInstances());
  await b.discard().catch((e) => console.log('discard refused:', (e as Error).message));
  for (const c of clones) await c.delete();
  await b.discard();
  console.log('leftovers', vmsLeftovers(env, clones.map((c) => c.uuid)));
} finally {
  await teardown(env);
}
