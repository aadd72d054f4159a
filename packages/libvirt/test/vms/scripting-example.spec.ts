import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { guestImage } from '../helpers/env.js';
import { vmsScripting } from '../../../../docs/examples/vms-scripting.js';
import { VmsEvidence } from './evidence.js';
import { makeEnv, teardown, virsh, vmsLeftovers, type VmsEnv } from './support.js';

jest.setTimeout(300_000);

/** docs/examples/vms-scripting.ts (seed 001's novaclient script, ported) against real guests. */
describe('VMS scripting example (real guests)', () => {
  let env: VmsEnv;
  const ev = new VmsEvidence('scripting-example');

  beforeAll(async () => {
    env = await makeEnv('ex', 'shared');
  });

  afterAll(async () => {
    ev.write();
    await teardown(env);
  });

  it('runs bless, launch x2, list-launched, delete, delete the original and discard, leaving nothing', async () => {
    const lines: string[] = [];
    const before = new Set(virsh('list', '--all', '--uuid').split('\n').map((l) => l.trim()).filter(Boolean));
    await ev.check(['vms.bless', 'vms.launch', 'vms.list', 'vms.discard'], 'seed 001 scripting example', () => vmsScripting(env.driver, guestImage(), (l) => lines.push(l)));
    const launched = lines.filter((l) => / was launched from /.test(l));
    expect(launched).toHaveLength(2);
    expect(new Set(launched.map((l) => l.split(' ')[1])).size).toBe(2);
    expect(lines.at(-1)).toMatch(/^Discarded [0-9a-f-]{36}; 0 of its instances left$/);
    const after = virsh('list', '--all', '--uuid').split('\n').map((l) => l.trim()).filter(Boolean);
    expect(after.filter((u) => !before.has(u) && virsh('domname', u).startsWith('vp-vms-example-'))).toEqual([]);
    expect(vmsLeftovers(env)).toEqual([]);
  });
});
