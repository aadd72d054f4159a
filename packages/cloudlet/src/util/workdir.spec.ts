import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { WorkDirs, type Owner } from './workdir.js';

const root = mkdtempSync(join(tmpdir(), 'vp-cl-wd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('work dirs', () => {
  it('keeps dirs of live owners and reports those of dead ones with their journal', async () => {
    const w = new WorkDirs(root);
    const mine = await w.create('synth');
    await mine.journal({ instance: 'x' });
    const dead = await w.create('synth');
    const owner = JSON.parse(readFileSync(dead.file('owner.json'), 'utf8')) as Owner;
    const child = spawnSync('true');
    writeFileSync(dead.file('owner.json'), JSON.stringify({ ...owner, pid: child.pid }));
    await dead.journal({ instance: 'y' });
    const stale = await w.stale();
    expect(stale.map((s) => s.dir.path)).toEqual([dead.path]);
    expect(stale[0]!.journal).toEqual({ instance: 'y' });
    await stale[0]!.dir.remove();
    expect(existsSync(dead.path)).toBe(false);
    expect(existsSync(mine.path)).toBe(true);
  });

  it('treats a recycled pid (other start time) as dead', async () => {
    const w = new WorkDirs(join(root, 'b'));
    const d = await w.create('x');
    const owner = JSON.parse(readFileSync(d.file('owner.json'), 'utf8')) as Owner;
    writeFileSync(d.file('owner.json'), JSON.stringify({ ...owner, startTime: '1' }));
    expect((await w.stale()).map((s) => s.dir.path)).toEqual([d.path]);
  });
});
