import type { ProcessRunner, RunOptions, RunResult } from '@virtplug/core';
import { sample } from '../../test/helpers/samples.js';
import { redactArgs } from './redact.js';
import { VBoxManageRunner } from './runner.js';
import { KeyedMutex } from '@virtplug/core';

/** Scripted process results, recording what was run. */
class Script implements ProcessRunner {
  readonly seen: Array<{ file: string; args: readonly string[]; options: RunOptions }> = [];
  constructor(private readonly results: Array<Partial<RunResult>>) {}
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.seen.push({ file, args, options });
    const r = this.results[Math.min(this.seen.length - 1, this.results.length - 1)]!;
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...r };
  }
}

const runner = (script: Script, retryCount = 3) =>
  new VBoxManageRunner(script, { cmd: '/opt/VBoxManage', retryCount, retryIntervalMs: 0, timeoutMs: 1234, sleep: async () => undefined });

describe('VBoxManageRunner', () => {
  it('runs argv with --nologo, English locale and the per-call timeout', async () => {
    const s = new Script([{ stdout: 'ok\r\n' }]);
    const r = await runner(s).run(['list', 'vms']);
    expect(r).toEqual({ stdout: 'ok\n', stderr: '', attempts: 1 });
    expect(s.seen[0]).toEqual({ file: '/opt/VBoxManage', args: ['--nologo', 'list', 'vms'], options: { timeoutMs: 1234, env: { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } } });
  });

  it('retries E_ACCESSDENIED up to retry_count tries (nova vector: call_count == retry_count)', async () => {
    const s = new Script([{ exitCode: 1, stderr: sample('S9-error-object-not-ready.txt') }]);
    await expect(runner(s, 3).run(['modifyvm', 'x', '--memory', '1'])).rejects.toMatchObject({ code: 'transient' });
    expect(s.seen).toHaveLength(3);
  });

  it('a lock error twice, then success, is success', async () => {
    const locked = { exitCode: 1, stderr: sample('S9-error-locked-for-session-modifyvm.txt') };
    const s = new Script([locked, locked, { stdout: '' }]);
    await expect(runner(s).run(['modifyvm', 'x'])).resolves.toMatchObject({ attempts: 3 });
  });

  it('does not retry errors that would fail again, nor time-outs', async () => {
    const s = new Script([{ exitCode: 1, stderr: sample('S9-error-not-found-named.txt') }]);
    await expect(runner(s).run(['showvminfo', 'CentOS-7'])).rejects.toMatchObject({ code: 'not_found' });
    expect(s.seen).toHaveLength(1);
    const t = new Script([{ exitCode: null, timedOut: true }]);
    await expect(runner(t).run(['list', 'vms'])).rejects.toMatchObject({ code: 'timeout', message: expect.stringMatching(/VBoxManage list vms did not finish within 1234 ms/) });
    expect(t.seen).toHaveLength(1);
  });

  it('judges by the exit code: "100%" on stderr with a failure is a failure, an error line with exit 0 too', async () => {
    await expect(runner(new Script([{ exitCode: 1, stderr: '0%...10%...100%\n' }])).run(['controlvm', 'x', 'poweroff'])).rejects.toMatchObject({
      code: 'operation_failed',
    });
    await expect(runner(new Script([{ exitCode: 0, stderr: '0%...100%\nVBoxManage: error: Nope\n' }])).run(['startvm', 'x'])).rejects.toMatchObject({
      code: 'operation_failed',
    });
    await expect(runner(new Script([{ exitCode: 0, stderr: '0%...100%\n' }])).run(['controlvm', 'x', 'poweroff'])).resolves.toMatchObject({ attempts: 1 });
  });

  it('retries extra patterns for one call (startvm VERR_INTERNAL_ERROR)', async () => {
    const s = new Script([{ exitCode: 1, stderr: 'VBoxManage: error: boom (VERR_INTERNAL_ERROR)\n' }, { stdout: 'started' }]);
    await expect(runner(s).run(['startvm', 'x'], { retryOn: /VERR_INTERNAL_ERROR/ })).resolves.toMatchObject({ attempts: 2 });
  });

  it('reports a missing executable as hypervisor unavailable, naming the path', async () => {
    const s = new Script([{ exitCode: null, spawnError: { code: 'ENOENT', message: 'spawn /opt/VBoxManage ENOENT' } }]);
    const err = await runner(s).run(['list', 'vms']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'hypervisor_unavailable', details: { path: '/opt/VBoxManage', code: 'ENOENT' } });
    expect((err as Error).message).toMatch(/"\/opt\/VBoxManage".*vboxmanage_cmd/);
  });

  it('asks --version once, tolerating WARNING lines and suffixes', async () => {
    const s = new Script([{ stdout: 'WARNING: The vboxdrv kernel module is not loaded.\n6.1.50_OSEr161033\n' }]);
    const r = runner(s);
    const [a, b] = await Promise.all([r.version(), r.version()]);
    expect(a).toBe(b);
    expect(a.version).toBe('6.1.50');
    expect(s.seen.map((x) => x.args)).toEqual([['--nologo', '--version']]);
    await expect(runner(new Script([{ stdout: '' }])).version()).rejects.toMatchObject({ code: 'hypervisor_unavailable' });
  });

  it('redacts CHAP and VNC secrets from argv for logs', () => {
    expect(redactArgs(['storageattach', 'x', '--username', 'u', '--password', 's3cret', '--vrdeproperty', 'VNCPassword=pw'])).toEqual([
      'storageattach', 'x', '--username', 'u', '--password', '***', '--vrdeproperty', 'VNCPassword=***',
    ]);
  });
});

describe('KeyedMutex', () => {
  it('serialises work per key and lets other keys run', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const step = (key: string, label: string, ms: number) =>
      m.run(key, async () => {
        order.push(`${label}:start`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${label}:end`);
      });
    await Promise.all([step('vm1', 'a', 30), step('vm1', 'b', 1), step('vm2', 'c', 1)]);
    expect(order.indexOf('b:start')).toBeGreaterThan(order.indexOf('a:end'));
    expect(order.indexOf('c:end')).toBeLessThan(order.indexOf('a:end'));
    expect(m.isLocked('vm1')).toBe(false);
  });

  it('releases the key when the work throws', async () => {
    const m = new KeyedMutex();
    await expect(m.run('k', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(m.run('k', async () => 7)).resolves.toBe(7);
  });
});
