#!/usr/bin/env node
// End-to-end test of the guest image under plain QEMU (TCG): boots it with
// run-qemu.sh, calls every agent op, saves the VM to a file and restores two
// clones from it (what libvirt save/restore does), and checks ACPI power-off.
//
//   node selftest.mjs [--image DIR] [--work DIR]
//
// Needs root (qemu, build.sh) and takes ~1 minute. Ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const opts = { image: '/var/lib/virtplug/guest-image', work: '/tmp/virtplug-selftest' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[key] = process.argv[i + 1];
}

let passed = 0;
let failed = 0;
function check(name, cond, detail = '') {
  if (cond) passed++;
  else failed++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${name}${cond || !detail ? '' : ` -- ${detail}`}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Newline-delimited JSON over a unix socket (agent and QMP speak the same framing).
class LineConn {
  static open(sockPath) {
    return new Promise((resolve, reject) => {
      const c = new LineConn();
      c.sock = net.createConnection(sockPath, () => resolve(c));
      c.sock.once('error', reject);
      c.buf = '';
      c.waiters = [];
      c.lines = [];
      c.sock.on('data', (d) => {
        c.buf += d.toString('utf8');
        let nl;
        while ((nl = c.buf.indexOf('\n')) >= 0) {
          const line = c.buf.slice(0, nl);
          c.buf = c.buf.slice(nl + 1);
          if (line.trim()) c.lines.push(JSON.parse(line));
        }
        c.wake();
      });
    });
  }
  wake() {
    for (const w of [...this.waiters]) w();
  }
  next(pred, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => done(new Error('timeout waiting for a reply')), timeoutMs);
      const done = (err, v) => {
        clearTimeout(t);
        this.waiters = this.waiters.filter((w) => w !== look);
        err ? reject(err) : resolve(v);
      };
      const look = () => {
        const i = this.lines.findIndex(pred);
        if (i >= 0) done(null, this.lines.splice(i, 1)[0]);
      };
      this.waiters.push(look);
      look();
    });
  }
  send(obj) {
    this.sock.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n');
  }
  close() {
    this.sock.destroy();
  }
}

let nextId = 1;
async function agent(conn, req) {
  const id = nextId++;
  conn.send({ id, ...req });
  return conn.next((m) => m.id === id);
}

async function qmp(sockPath) {
  const c = await LineConn.open(sockPath);
  await c.next((m) => m.QMP);
  c.cmd = async (execute, args) => {
    c.send(args ? { execute, arguments: args } : { execute });
    const r = await c.next((m) => 'return' in m || 'error' in m);
    if (r.error) throw new Error(`${execute}: ${r.error.desc}`);
    return r.return;
  };
  await c.cmd('qmp_capabilities');
  return c;
}

function runQemu(args) {
  return execFileSync('bash', [path.join(HERE, 'run-qemu.sh'), '--image', opts.image, ...args], {
    encoding: 'utf8',
  });
}

function pidOf(state) {
  try {
    return Number(fs.readFileSync(path.join(state, 'qemu.pid'), 'utf8'));
  } catch {
    return 0;
  }
}
function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
async function waitExit(pid, ms) {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await sleep(100);
  return !alive(pid);
}

const sanitize = (k) => 'VMS_' + k.replace(/[^A-Za-z0-9_]/g, '_');
const b64 = (buf) => Buffer.from(buf).toString('base64');

async function opTests(conn, state) {
  let r = await agent(conn, { op: 'ping' });
  check('ping', r.ok && r.result.pong === true, JSON.stringify(r));

  r = await agent(conn, { op: 'identity' });
  const serial = fs.readFileSync(path.join(state, 'serial.log'), 'utf8');
  const readyBoot = /^VIRTPLUG-READY boot_id=(\S+)$/m.exec(serial)?.[1];
  check('identity hostname from vp.hostname', r.result?.hostname === 'vp-a', JSON.stringify(r));
  check('identity mac', r.result?.macs?.eth0 === '52:54:00:12:34:56', JSON.stringify(r.result?.macs));
  check('identity boot_id matches READY line', readyBoot && r.result.boot_id === readyBoot, `${readyBoot}`);
  check('identity machine_id', /^[0-9a-f]{32}$/.test(r.result?.machine_id ?? ''), r.result?.machine_id);
  check('identity uptime', r.result?.uptime_sec > 0 && r.result.clone_generation === 0);

  const marker = 'before-save ✓ "q" \\ \u0001 😀';
  r = await agent(conn, { op: 'marker-set', value: marker });
  r = await agent(conn, { op: 'marker-get' });
  check('marker round-trip (escapes, unicode)', r.result?.value === marker, JSON.stringify(r));

  // params: values and keys that would do damage if anything used a shell
  const params = {
    plain: 'hello',
    quote: `it's "quoted" \\ back`,
    subst: '$(touch /tmp/pwned)',
    backtick: '`touch /tmp/pwned2`',
    meta: '<b> & a<b && c>d | e; f',
    dotdot: '../../etc/passwd',
    '../key': 'dotdot-key',
    '$(touch /tmp/pwnedkey)': 'subst-key',
    'a b&c<d': 'spaces',
    unicode: 'héllo ✓ 😀',
    newline: 'line1\nline2',
    num: 42,
    flag: true,
  };
  r = await agent(conn, { op: 'params', params });
  const hook = r.result?.hooks?.[0];
  check('params ran 10-record', r.ok && hook?.name === '10-record' && hook.exit === 0, JSON.stringify(r));
  check('params hook stdout', hook?.stdout === 'recorded launch\n', JSON.stringify(hook));
  const pj = await agent(conn, { op: 'read-file', path: r.result?.params_path ?? '/run/virtplug/params.json' });
  const pjText = Buffer.from(pj.result?.data_b64 ?? '', 'base64').toString('utf8');
  check('params.json is exact', pjText === JSON.stringify(params), pjText);
  const hl = await agent(conn, { op: 'read-file', path: '/run/virtplug/hook.log' });
  const log = Buffer.from(hl.result?.data_b64 ?? '', 'base64').toString('utf8');
  check('hook argv[1]=launch', log.includes('phase=launch\n'), log);
  check('hook argv[2] is the exact params JSON', log.includes(`params=${JSON.stringify(params)}\n`), log);
  for (const [k, v] of Object.entries(params)) {
    const line = `${sanitize(k)}=${String(v).split('\n')[0]}\n`;
    check(`hook env ${sanitize(k)}`, log.includes(line), line);
  }
  for (const f of ['/tmp/pwned', '/tmp/pwned2', '/tmp/pwnedkey']) {
    r = await agent(conn, { op: 'read-file', path: f });
    check(`nothing executed (${f} absent)`, !r.ok && /No such file/.test(r.error), JSON.stringify(r));
  }
  r = await agent(conn, { op: 'params', params: { a: 'x\u0000y' } });
  check('params with NUL rejected', !r.ok, JSON.stringify(r));

  // file ops and their path policy
  const blob = crypto.randomBytes(200 * 1024);
  r = await agent(conn, { op: 'write-file', path: '/data/bin/blob', data_b64: b64(blob) });
  check('write-file (creates parent)', r.ok && r.result.size === blob.length, JSON.stringify(r));
  r = await agent(conn, { op: 'read-file', path: '/data/bin/blob', max: 1 << 20 });
  check('read-file round-trip', r.ok && Buffer.from(r.result.data_b64, 'base64').equals(blob));
  r = await agent(conn, { op: 'read-file', path: '/data/bin/blob', max: 1000 });
  check('read-file max/truncated', r.result?.truncated === true && r.result.size === blob.length);
  const big = crypto.randomBytes(4 << 20);
  r = await agent(conn, { op: 'write-file', path: '/tmp/big', data_b64: b64(big), sync: false });
  check('write-file 4 MiB request line', r.ok && r.result.size === big.length, JSON.stringify(r));
  for (const p of ['/data/../etc/passwd', '/etc/passwd', '/tmp/../etc/shadow', 'tmp/x', '/datax/y']) {
    r = await agent(conn, { op: 'read-file', path: p });
    check(`read-file refuses ${p}`, !r.ok, JSON.stringify(r));
    r = await agent(conn, { op: 'write-file', path: p, data_b64: 'eA==' });
    check(`write-file refuses ${p}`, !r.ok, JSON.stringify(r));
  }

  // block devices: pattern written in the guest must reach the host's file
  r = await agent(conn, { op: 'list-disks' });
  const disks = Object.fromEntries((r.result?.disks ?? []).map((d) => [d.name, d]));
  check('list-disks data disk', disks.vda?.serial === 'vp-data' && disks.vda.mount === '/data', JSON.stringify(r));
  check('list-disks extra disk', disks.vdb?.serial === 'vp-disk-0' && disks.vdb.size === 8 << 20);
  const pattern = Buffer.alloc(65536, 0).map((_, i) => (i * 7 + 3) & 0xff);
  const off = (1 << 20) + 512;
  r = await agent(conn, { op: 'disk-write', device: '/dev/vdb', offset: off, data_b64: b64(pattern) });
  check('disk-write', r.ok && r.result.size === pattern.length, JSON.stringify(r));
  r = await agent(conn, { op: 'disk-read', device: '/dev/vdb', offset: off, length: pattern.length });
  check('disk-read', r.ok && Buffer.from(r.result.data_b64, 'base64').equals(pattern));
  const host = Buffer.alloc(pattern.length);
  const fd = fs.openSync(path.join(opts.work, 'extra.raw'), 'r');
  fs.readSync(fd, host, 0, host.length, off);
  fs.closeSync(fd);
  check('disk-write bytes visible on the host', host.equals(pattern));
  r = await agent(conn, { op: 'disk-read', device: '/dev/../etc/passwd', offset: 0, length: 1 });
  check('disk-read refuses non-device path', !r.ok);

  r = await agent(conn, { op: 'workload', name: 'write-files', dir: '/data/w', mib: 4 });
  check('workload write-files', r.ok && r.result.bytes === 4 << 20 && r.result.files >= 4, JSON.stringify(r));
  r = await agent(conn, { op: 'workload', name: 'fill-memory', mib: 16, seed: 3 });
  check('workload fill-memory', r.ok && r.result.total_mib === 16, JSON.stringify(r));
  r = await agent(conn, { op: 'workload', name: 'drop-memory' });
  check('workload drop-memory', r.ok && r.result.freed_mib === 16, JSON.stringify(r));
  r = await agent(conn, { op: 'sync' });
  check('sync', r.ok);

  // protocol errors still answer, with the id when it can be found
  r = await agent(conn, { op: 'no-such-op' });
  check('unknown op error', !r.ok && /unknown op/.test(r.error));
  conn.send('{"id":9001,"op":"ping","x":[1,2]}');
  r = await conn.next((m) => m.id === 9001);
  check('unsupported JSON answered with id', !r.ok && /arrays/.test(r.error), JSON.stringify(r));
  conn.send('not json at all');
  r = await conn.next((m) => m.id === null);
  check('garbage line answered', !r.ok);
  r = await agent(conn, { op: 'set-identity', mac: 'ff:ff:ff:ff:ff:ff' });
  check('set-identity rejects multicast mac', !r.ok);
  r = await agent(conn, { op: 'set-identity', hostname: 'a;reboot' });
  check('set-identity rejects bad hostname', !r.ok);
}

async function main() {
  fs.rmSync(opts.work, { recursive: true, force: true });
  fs.mkdirSync(opts.work, { recursive: true });
  execFileSync('bash', [path.join(HERE, 'build.sh'), '--out', opts.image], { stdio: 'inherit' });
  fs.writeFileSync(path.join(opts.work, 'extra.raw'), Buffer.alloc(8 << 20));

  const A = path.join(opts.work, 'a');
  const diskArgs = (dir) => ['--disk', path.join(dir, 'extra.raw')];
  const boot = runQemu(['--daemon', '--state', A, '--hostname', 'vp-a', ...diskArgs(opts.work)]);
  process.stdout.write(boot);
  const times = /boot-to-ready: ([\d.]+)s\s+boot-to-agent: ([\d.]+)s/.exec(boot);
  check('boot-to-ready under 10 s', times && Number(times[1]) < 10, boot);

  let conn = await LineConn.open(path.join(A, 'agent.sock'));
  await opTests(conn, A);
  conn.close();

  // reconnect: a client that dies mid-request must not confuse the next one
  conn = await LineConn.open(path.join(A, 'agent.sock'));
  conn.sock.write('{"id":1,"op":"pi');
  await sleep(300);
  conn.close();
  await sleep(300);
  conn = await LineConn.open(path.join(A, 'agent.sock'));
  let r = await agent(conn, { op: 'ping' });
  check('reconnect after half-sent request', r.ok, JSON.stringify(r));

  // save (libvirt save == pause + migrate to file)
  const marker = `clone-marker-${Date.now()}`;
  await agent(conn, { op: 'marker-set', value: marker });
  r = await agent(conn, { op: 'workload', name: 'fill-memory', mib: 32, seed: 7 });
  const ident = (await agent(conn, { op: 'identity' })).result;
  const pidA = pidOf(A); // qemu deletes its pidfile on exit
  const q = await qmp(path.join(A, 'qmp.sock'));
  await q.cmd('stop');
  const stateFile = path.join(opts.work, 'vm.state');
  await q.cmd('migrate', { uri: `exec:cat > ${stateFile}` });
  for (;;) {
    const m = await q.cmd('query-migrate');
    if (m.status === 'completed') break;
    if (m.status === 'failed') throw new Error('migrate failed');
    await sleep(100);
  }
  await q.cmd('quit');
  q.close();
  conn.close();
  check('saved VM state', (await waitExit(pidA, 10000)) && fs.statSync(stateFile).size > 0);

  // two clones restored from the same file, side by side
  const clones = [];
  for (const name of ['b', 'c']) {
    const dir = path.join(opts.work, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(A, 'data.qcow2'), path.join(dir, 'data.qcow2'));
    fs.copyFileSync(path.join(opts.work, 'extra.raw'), path.join(dir, 'extra.raw'));
    const t0 = Date.now();
    runQemu(['--incoming', stateFile, '--state', dir, '--hostname', 'vp-a', ...diskArgs(dir)]);
    clones.push({ name, dir, t0 });
  }
  for (const c of clones) {
    const cq = await qmp(path.join(c.dir, 'qmp.sock'));
    while ((await cq.cmd('query-status')).status === 'inmigrate') await sleep(50);
    await cq.cmd('cont');
    cq.close();
    c.conn = await LineConn.open(path.join(c.dir, 'agent.sock'));
    r = await agent(c.conn, { op: 'ping' });
    console.log(`clone ${c.name}: restore-to-agent ${((Date.now() - c.t0) / 1000).toFixed(2)} s`);
    check(`clone ${c.name} agent answers after restore`, r.ok);
  }
  for (const [i, c] of clones.entries()) {
    r = await agent(c.conn, { op: 'marker-get' });
    check(`clone ${c.name} marker intact`, r.result?.value === marker, JSON.stringify(r));
    r = await agent(c.conn, { op: 'workload', name: 'check-memory' });
    check(`clone ${c.name} memory intact`, r.result?.intact === true && r.result.total_mib === 32, JSON.stringify(r));
    r = await agent(c.conn, { op: 'identity' });
    check(`clone ${c.name} same boot as parent`, r.result?.boot_id === ident.boot_id);
    r = await agent(c.conn, {
      op: 'set-identity',
      hostname: `clone-${c.name}`,
      mac: `52:54:00:00:00:0${i + 1}`,
      ip: `10.99.0.${i + 10}/24`,
      gateway: '10.99.0.1',
      machine_id: 'new',
    });
    const id = r.result ?? {};
    check(
      `clone ${c.name} set-identity`,
      r.ok && id.hostname === `clone-${c.name}` && id.macs.eth0 === `52:54:00:00:00:0${i + 1}` &&
        id.ips.eth0 === `10.99.0.${i + 10}/24` && id.machine_id !== ident.machine_id && id.clone_generation === 1,
      JSON.stringify(r),
    );
    c.machineId = id.machine_id;
    r = await agent(c.conn, { op: 'params', params: { clone: c.name } });
    check(`clone ${c.name} params hook`, r.ok && r.result.hooks[0].exit === 0, JSON.stringify(r));
    r = await agent(c.conn, { op: 'read-file', path: '/data/bin/blob', max: 16 });
    check(`clone ${c.name} sees parent's data disk`, r.ok && r.result.size === 200 * 1024);
  }
  check('clones got different machine ids', clones[0].machineId !== clones[1].machineId);

  // power: ACPI button (virsh shutdown) on one clone, agent op on the other
  const [b, c] = clones;
  b.pid = pidOf(b.dir);
  c.pid = pidOf(c.dir);
  const bq = await qmp(path.join(b.dir, 'qmp.sock'));
  await bq.cmd('system_powerdown');
  check('ACPI power button powers off', await waitExit(b.pid, 20000));
  bq.close();
  r = await agent(c.conn, { op: 'shutdown' });
  check('shutdown op answers before powering off', r.ok && r.result.action === 'poweroff');
  check('shutdown op powers off', await waitExit(c.pid, 20000));
  for (const x of clones) x.conn.close();
}

try {
  await main();
} catch (err) {
  check('selftest ran to completion', false, err.stack);
} finally {
  for (const d of ['a', 'b', 'c']) {
    const pid = pidOf(path.join(opts.work, d));
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
