import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cloudlet } from '../cloudlet.js';
import { settingsFrom } from '../config.js';
import { setupFixture, type Fixture } from '../../test/helpers/fixture.js';
import { listTar } from './tar.js';

let fx: Fixture;
let src: Cloudlet;
let dst: Cloudlet;
let pkg: string;

beforeAll(async () => {
  fx = await setupFixture('pkg');
  src = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl') }));
  dst = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl-other') }));
  pkg = join(fx.root, 'base.tar');
  await src.exportBase(fx.base.id.slice(0, 12), pkg);
});
afterAll(async () => {
  await src?.close();
  await dst?.close();
  await fx?.close();
});

describe('base packages', () => {
  it('exports a ustar archive that tar itself can list', async () => {
    const names = execFileSync('tar', ['-tf', pkg]).toString().trim().split('\n');
    expect(names).toEqual(['base.json', 'descriptor.xml', 'state.bin', 'memory.hashes', 'disk.hashes', 'memory.ram.zst', 'disk.qcow2']);
    expect((await listTar(pkg)).map((e) => e.name)).toEqual(names);
  });

  it('imports into another cloudlet with the same id, bytes and hash lists', async () => {
    const b = await dst.importBase(pkg);
    expect(b.id).toBe(fx.base.id);
    expect(readFileSync(b.ramPath).equals(readFileSync(fx.base.ramPath))).toBe(true);
    expect(readFileSync(b.diskPath).equals(readFileSync(fx.base.diskPath))).toBe(true);
    expect(readFileSync(b.memoryHashesPath).equals(readFileSync(fx.base.memoryHashesPath))).toBe(true);
    expect(b.manifest.machine).toEqual(fx.base.manifest.machine);
    expect((await dst.listBases()).map((x) => x.id)).toEqual([fx.base.id]);
  });

  it('refuses a second import of the same base', async () => {
    await expect(dst.importBase(pkg)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('imports a directory package too', async () => {
    const third = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl-third') }));
    const b = await third.importBase(fx.base.dir);
    expect(b.id).toBe(fx.base.id);
    await third.close();
  });

  it('refuses a package whose disk does not hash to its id, and leaves no staging files', async () => {
    const bad = join(fx.root, 'bad-dir');
    execFileSync('cp', ['-r', fx.base.dir, bad]);
    const disk = readFileSync(join(bad, 'disk.raw'));
    disk[4096 * 3]! ^= 1;
    writeFileSync(join(bad, 'disk.raw'), disk);
    const fresh = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl-fresh') }));
    await expect(fresh.importBase(bad)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('(the base id)') });
    expect(readdirSync(join(fx.root, 'cl-fresh', 'tmp'))).toEqual([]);
    expect(await fresh.listBases()).toEqual([]);
    await fresh.close();
  });

  it('refuses a truncated archive', async () => {
    const t = join(fx.root, 'trunc.tar');
    writeFileSync(t, readFileSync(pkg).subarray(0, 20_000));
    const fresh = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl-trunc') }));
    await expect(fresh.importBase(t)).rejects.toMatchObject({ code: 'invalid_argument' });
    await fresh.close();
  });

  it('refuses archive members with paths', async () => {
    const dir = join(fx.root, 'evil');
    execFileSync('mkdir', ['-p', join(dir, 'sub')]);
    writeFileSync(join(dir, 'sub', 'base.json'), '{}');
    const t = join(fx.root, 'evil.tar');
    execFileSync('tar', ['--format=ustar', '-cf', t, '-C', dir, 'sub/base.json']);
    const fresh = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'cl-evil') }));
    await expect(fresh.importBase(t)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('plain file name') });
    await fresh.close();
  });

  it('resolves unique id prefixes and refuses unknown ids clearly', async () => {
    expect((await src.getBase(fx.base.id.slice(0, 8))).id).toBe(fx.base.id);
    await expect(src.getBase('0000000000')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('import-base') });
    await expect(src.getBase('../etc')).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
