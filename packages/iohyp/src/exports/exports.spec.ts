import { RecordingRunner } from '../testing/recording-runner.js';
import { NftExportAcl } from './nft-acl.js';
import { QsdExporter } from './qsd.js';

describe('exports', () => {
  it('qsd: JSON options only, bound to the segment address, CHAP secret from a file', async () => {
    const runner = new RecordingRunner();
    const qsd = new QsdExporter(runner, 'iqn.2026-11.io.virtplug:hyp1');
    await expect(
      qsd.start({
        id: 'a1',
        spec: { type: 'iscsi', portal: '10.88.1.1:3260', iqn: 'iqn.2026-11.io.virtplug.lab:vol1', lun: 1, chap: { username: 'u', password: '***' } },
        secretFile: '/run/agent/secrets/a1.secret',
        host: '10.88.100.1',
        port: 10900,
        name: 'vol-1',
        pidFile: '/nonexistent/a1.pid',
      }),
    ).rejects.toThrow(/exited right after starting/);
    const [call] = runner.calls;
    expect(call!.file).toBe('qemu-storage-daemon');
    const json = (flag: string) => JSON.parse(call!.args[call!.args.indexOf(flag) + 1]!);
    expect(json('--object')).toEqual({ 'qom-type': 'secret', id: 'vpsec0', file: '/run/agent/secrets/a1.secret' });
    expect(json('--blockdev')).toEqual({
      driver: 'raw',
      'node-name': 'vol',
      file: { driver: 'iscsi', transport: 'tcp', portal: '10.88.1.1:3260', target: 'iqn.2026-11.io.virtplug.lab:vol1', lun: 1, 'initiator-name': 'iqn.2026-11.io.virtplug:hyp1', user: 'u', 'password-secret': 'vpsec0' },
    });
    expect(json('--nbd-server').addr).toEqual({ type: 'inet', host: '10.88.100.1', port: '10900' });
    expect(json('--export')).toMatchObject({ type: 'nbd', name: 'vol-1', writable: true });
    expect(call!.args.join(' ')).not.toContain('***');
  });

  it('nft ACL: a verdict-map entry per port and a chain admitting only the allowed sources on the interface', async () => {
    let listed = false;
    const runner = new RecordingRunner((c) => {
      if (c.args[0] === 'list' && c.args[1] === 'table') return listed ? { stdout: 'table inet vp_iohyp {}' } : { exitCode: 1 };
      if (c.args[0] === '-f') listed = true;
      return {};
    });
    await new NftExportAcl(runner).allow('0f1e-2d', 10900, 'iov100', ['10.88.100.10', '10.88.100.2']);
    const scripts = runner.calls.filter((c) => c.input).map((c) => c.input!);
    expect(scripts[0]).toContain('add rule inet vp_iohyp input tcp dport vmap @exports');
    expect(scripts[1]).toContain('add rule inet vp_iohyp exp_0f1e_2d iifname "iov100" ip saddr { 10.88.100.10, 10.88.100.2 } accept');
    expect(scripts[1]).toContain('reject with tcp reset');
    expect(scripts[1]).toContain('add element inet vp_iohyp exports { 10900 : jump exp_0f1e_2d }');
    await expect(new NftExportAcl(runner).allow('x', 10900, 'iov100', ['10.0.0.1 } accept; add rule']) ).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(new NftExportAcl(runner).allow('x', 10900, 'iov100"; drop', [])).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('qemu-nbd exporter', () => {
  it('passes the format node as one json: filename (no --format), bound to the segment address', async () => {
    const { QemuNbdExporter } = await import('./qemu-nbd.js');
    const runner = new RecordingRunner();
    await new QemuNbdExporter(runner, 'iqn.2026-11.io.virtplug:hyp1')
      .start({ id: 'a', spec: { type: 'file', path: '/var/tmp/v.img', format: 'qcow2' }, secretFile: null, host: '10.88.100.1', port: 10901, name: 'v', pidFile: '/nonexistent/a.pid' })
      .catch(() => undefined);
    const args = runner.calls[0]!.args;
    expect(args).toEqual(expect.arrayContaining(['--bind=10.88.100.1', '--port=10901', '--export-name=v', '--fork']));
    expect(args.some((a) => a.startsWith('--format'))).toBe(false);
    expect(JSON.parse(args.at(-1)!.slice('json:'.length))).toEqual({ driver: 'qcow2', file: { driver: 'file', filename: '/var/tmp/v.img', aio: 'threads' } });
  });
});
