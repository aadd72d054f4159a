import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { InstanceRef } from '@virtplug/core';
import { soakVms } from '../../../../tools/soak/lib/vms-loop.js';
import { bootSource, makeEnv, teardown, type VmsEnv } from './support.js';

jest.setTimeout(600_000);

/** The CI cut of `npm run soak -- vms`: 5 cycles of bless, launch x3, delete, discard, with the same leak check. */
describe('VMS soak (5 cycles, real guests)', () => {
  let env: VmsEnv;
  let source: InstanceRef;

  beforeAll(async () => {
    env = await makeEnv('soakci', 'shared');
    source = await bootSource(env, 'vp-vms-soakci-src');
  });

  afterAll(async () => {
    await teardown(env);
  });

  it('leaves no domain, file or record behind', async () => {
    const r = await soakVms(env, source, { cycles: 5, maxMs: 480_000 });
    expect(r.cycles_done).toBe(5);
    expect(r.clones_launched).toBe(15);
    expect(r.leftovers).toEqual([]);
  });
});
