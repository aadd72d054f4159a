import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromInline, loadDriver, loadDriverModule, FakeDriver } from '@virtplug/core';
import { IoHypRouter } from './router.js';
import { IMAGE, PLAIN_FLAVOR, instance, iscsiVolume } from './testing/fixtures.js';
import { readTokenFile } from './util/token.js';
import { removeTempDirs, tempDir } from './testing/in-memory.js';

afterAll(() => removeTempDirs());

describe('@virtplug/iohyp as a driver module', () => {
  const dir = tempDir('vp-io-mod-');
  const token = join(dir, 'token');
  writeFileSync(token, 'a-token-of-enough-length-1234\n', { mode: 0o600 });
  const inline = {
    computeDriver: '@virtplug/iohyp',
    statePath: dir,
    logLevel: 'silent',
    iohyp: { wrap: 'fake', agents: 'hyp1=http://127.0.0.1:1', token_file: token },
  };

  it('loads from compute_driver = @virtplug/iohyp and wraps [iohyp] wrap', async () => {
    const router = await loadDriver(inline);
    expect(router).toBeInstanceOf(IoHypRouter);
    expect((router as IoHypRouter).inner).toBeInstanceOf(FakeDriver);
    expect(router.capabilities['iohyp.route-volume']?.status).toBe('complete');
    expect(router.capabilities['operation.launch']?.status).toBe('complete');
    const vm = instance(PLAIN_FLAVOR);
    await router.spawn(vm, IMAGE);
    await router.attachVolume(vm, iscsiVolume(), '/dev/vdb');
    expect((router as IoHypRouter).listRoutes()).toEqual([]);
  });

  it('probes: not usable while no agent answers, and says which', async () => {
    const m = await loadDriverModule('@virtplug/iohyp');
    const p = await m.probe!(fromInline(inline));
    expect(p.usable).toBe(false);
    expect(p.reason).toMatch(/wraps fake \(usable\); agents 0\/1 reachable \(hyp1: IOhyp agent hyp1 at http:\/\/127.0.0.1:1 did not answer/);
  });

  it('refuses a token file others can read, and wrapping itself', async () => {
    chmodSync(token, 0o644);
    expect(() => readTokenFile(token)).toThrow(/chmod 600/);
    chmodSync(token, 0o600);
    await expect(loadDriver({ ...inline, iohyp: { ...inline.iohyp, wrap: '@virtplug/iohyp' } })).rejects.toThrow(/must name another driver/);
  });
});
