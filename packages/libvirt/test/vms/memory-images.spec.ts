import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { hasErrorCode, type Instance, type InstanceRef, type MemoryImage } from '@virtplug/core';
import { guestImage } from '../helpers/env.js';
import { agentRequest, bootSource, hookLog, instanceFor, makeEnv, teardown, virsh, virshOk, type VmsEnv } from './support.js';

jest.setTimeout(300_000);

/** core's MemoryImages (what cloudlets build on): capture a running guest, restore it under a new identity. */
describe('MemoryImages on libvirt (real guests)', () => {
  let env: VmsEnv;
  let source: InstanceRef;
  let image: MemoryImage;
  let dir: string;
  let restored: InstanceRef | undefined;

  beforeAll(async () => {
    env = await makeEnv('mem', 'shared');
    source = await bootSource(env, 'vp-vms-mem-src');
    dir = mkdtempSync('/var/tmp/vp-vms-mem-image-');
  });

  afterAll(async () => {
    await teardown(env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('captures RAM as a flat file, device state and a frozen disk; the source keeps running', async () => {
    await agentRequest(env, source, 'marker-set', { value: 'before-capture' });
    await agentRequest(env, source, 'workload', { name: 'fill-memory', mib: 32, seed: 7 });
    image = await env.memoryImages.capture(source, dir);
    expect(image.ramBytes).toBe(256 * 1024 * 1024);
    expect(statSync(image.ramPath).size).toBe(image.ramBytes);
    expect(statSync(image.statePath).size).toBeLessThan(4 * 1024 * 1024);
    expect(image.diskFormat).toBe('qcow2');
    expect(existsSync(image.diskPath)).toBe(true);
    expect(image.descriptor).toContain(`<uuid>${source.uuid}</uuid>`);
    expect(image.machine).toEqual(expect.objectContaining({ virtType: 'qemu', machineType: expect.stringMatching(/^pc-i440fx-/) }));
    const here = await env.memoryImages.machineSignature();
    expect(here.qemuVersion).toBe(image.machine.qemuVersion);
    expect(virsh('domstate', source.uuid).trim()).toBe('running');
    // The source goes on changing; the image must not.
    await agentRequest(env, source, 'marker-set', { value: 'after-capture' });
  });

  it('restores it as a new instance: same memory, new identity, params delivered', async () => {
    const inst: Instance = { ...instanceFor(env, 'vp-vms-mem-restored'), hostname: 'restored-one' };
    env.uuids.add(inst.uuid);
    const overlay = join(dir, 'restored-overlay.qcow2');
    restored = await env.memoryImages.restore(image, inst, { params: { from: 'memory-image' }, diskPath: overlay });
    expect(restored).toEqual({ uuid: inst.uuid, name: inst.name });
    expect(existsSync(overlay)).toBe(true);
    expect((await agentRequest<{ value: string }>(env, restored, 'marker-get')).value).toBe('before-capture');
    expect((await agentRequest<{ intact: boolean }>(env, restored, 'workload', { name: 'check-memory' })).intact).toBe(true);
    const id = await agentRequest<{ hostname: string; macs: Record<string, string> }>(env, restored, 'identity');
    expect(id.hostname).toBe('restored-one');
    expect(id.macs.eth0).toBe(inst.networkInfo![0]!.address);
    expect(await hookLog(env, restored)).toContain('params={"from":"memory-image"}');
    expect((await agentRequest<{ value: string }>(env, source, 'marker-get')).value).toBe('after-capture');
  });

  it('refuses a restore on a different machine, leaving nothing behind', async () => {
    const inst = instanceFor(env, 'vp-vms-mem-mismatch');
    const e = await env.memoryImages.restore({ ...image, machine: { ...image.machine, qemuVersion: '1.0.0' } }, inst).catch((x: unknown) => x);
    expect(hasErrorCode(e, 'invalid_state')).toBe(true);
    expect((e as Error).message).toMatch(/QEMU 1\.0\.0/);
    expect(virshOk('domstate', inst.uuid)).toBe(false);
    expect(existsSync(join(env.statePath, 'vms', 'restored', inst.uuid))).toBe(false);
  });

  it('refuses to capture an instance that is not running', async () => {
    const stopped = instanceFor(env, 'vp-vms-mem-stopped', 128);
    env.uuids.add(stopped.uuid);
    await env.driver.spawn(stopped, guestImage(), { powerOn: false });
    const e = await env.memoryImages.capture(stopped, join(dir, 'x')).catch((x: unknown) => x);
    expect(hasErrorCode(e, 'invalid_state')).toBe(true);
    await env.driver.destroy(stopped);
  });

  it('cleans up a restored instance after delete', async () => {
    await env.vms.deleteInstance(restored!);
    expect(virshOk('domstate', restored!.uuid)).toBe(false);
    await env.vms.gc();
    expect(existsSync(join(env.statePath, 'vms', 'restored', restored!.uuid))).toBe(false);
    expect(existsSync(join(env.runDir, restored!.uuid))).toBe(false);
  });
});
