import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FeatureId } from '../capabilities/catalogue.js';
import type { EvidenceFile, EvidenceMode } from '../capabilities/evidence.js';
import type { ComputeDriver, ComputeOperation } from '../driver/compute-driver.js';
import { FEATURE_OPERATIONS } from '../driver/operations.js';
import { UnsupportedOperationError, VirtplugError } from '../errors.js';
import { PowerState, type Flavor, type ImageMeta, type Instance, type InstanceRef, type VolumeConnectionInfo } from '../model/index.js';
import { EvidenceRecorder, writeEvidence } from './evidence-writer.js';

/** Observes a guest from inside (an agent), so state checks see what the guest sees. */
export interface GuestProbe {
  identity(instance: InstanceRef): Promise<{ bootId: string; uptimeSec: number }>;
}

/** A volume the kit can attach; `verify` proves the guest's writes land on the backing store. */
export interface VolumeFixture {
  connectionInfo: VolumeConnectionInfo;
  mountpoint: string;
  verify?(instance: InstanceRef): Promise<void>;
  cleanup?(): Promise<void>;
}

export interface ContractOptions {
  /** Shown in test names and used for the evidence file name. */
  label: string;
  image: ImageMeta;
  /** An image whose spawn fails (default: one whose disk path does not exist). */
  badImage?: ImageMeta;
  flavor?: Flavor;
  resizeFlavor?: Flavor;
  evidence: {
    dir: string;
    mode: EvidenceMode;
    /** Evidence file name; default `<driver>`. */
    file?: string;
    backend(driver: ComputeDriver): Promise<EvidenceFile['backend']>;
  };
  /** Per-test timeout (ms). */
  timeoutMs?: number;
  guest?: GuestProbe;
  volumes?: Partial<Record<'file' | 'nbd' | 'iscsi' | 'iscsiChap', () => Promise<VolumeFixture>>>;
  /** What is left of an instance on the backend (domains, files); a failed spawn must leave nothing. */
  leftovers?(instance: InstanceRef): Promise<string[]>;
  /** Time to let a freshly (re)started guest settle before probing it. */
  waitForGuest?(driver: ComputeDriver, instance: InstanceRef): Promise<void>;
}

const DEFAULT_FLAVOR: Flavor = { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 };

/**
 * The shared contract every driver runs (Nova's _VirtDriverTestCase, libcloud's TestCaseMixin): each
 * `missing` operation throws UnsupportedOperationError; each `complete` one works with its state
 * transitions; destroying a missing instance succeeds; a failed spawn leaves nothing. Results go to an
 * evidence file the capability matrix reads.
 */
export function describeDriverContract(makeDriver: () => Promise<ComputeDriver>, options: ContractOptions): void {
  const timeout = options.timeoutMs ?? 10_000;
  const recorder = new EvidenceRecorder();
  const flavor = options.flavor ?? DEFAULT_FLAVOR;
  let driver: ComputeDriver;
  const suffix = randomUUID().slice(0, 8);
  const instance: Instance = { uuid: randomUUID(), name: `vp-contract-${suffix}`, flavor };
  let launched = false;

  const declared = (id: FeatureId) => driver.capabilities[id]?.status ?? 'missing';
  const claims = (id: FeatureId) => ['complete', 'partial'].includes(declared(id));

  /** Runs a check for the features it backs; records pass/fail, or skip when none is claimed. */
  const check = (features: FeatureId[], name: string, fn: () => Promise<void>) =>
    it(
      `${options.label}: ${name}`,
      async () => {
        const claimed = features.filter(claims);
        if (claimed.length === 0) {
          for (const f of features) recorder.record(f, 'skip', 'not claimed', name);
          return;
        }
        try {
          await fn();
        } catch (e) {
          for (const f of claimed) recorder.record(f, 'fail', (e as Error).message.slice(0, 300), name);
          throw e;
        }
        for (const f of claimed) recorder.record(f, 'pass', undefined, name);
      },
      timeout,
    );

  const settle = async () => {
    if (options.waitForGuest) await options.waitForGuest(driver, instance);
  };
  const state = async () => (await driver.getInfo(instance)).state;

  describe(`${options.label} driver contract`, () => {
    beforeAll(async () => {
      driver = await makeDriver();
    }, timeout);

    afterAll(async () => {
      if (!driver) return;
      try {
        await driver.destroy(instance);
      } catch {
        // best effort; the terminate check reports real failures
      }
      const backend = await options.evidence.backend(driver).catch((e) => ({ name: 'unknown', version: String(e) }));
      writeEvidence(options.evidence.dir, options.evidence.file ?? driver.name, recorder.build(driver.name, options.evidence.mode, backend));
      await driver.close();
    }, timeout);

    describe('missing operations throw UnsupportedOperationError', () => {
      it(`${options.label}: every missing operation is refused`, async () => {
        const ghost: InstanceRef = { uuid: randomUUID(), name: 'vp-contract-ghost' };
        for (const [feature, ops] of Object.entries(FEATURE_OPERATIONS)) {
          if (declared(feature) !== 'missing') continue;
          for (const op of ops) {
            const err = await callWithDummies(driver, op, ghost).then(
              () => undefined,
              (e: unknown) => e,
            );
            try {
              expect(err).toBeInstanceOf(UnsupportedOperationError);
              recorder.record(feature, 'pass', 'declared missing; refused with UnsupportedOperationError', `${op} refused`);
            } catch (e) {
              recorder.record(feature, 'fail', `declared missing but ${op} did not throw UnsupportedOperationError`, `${op} refused`);
              throw e;
            }
          }
        }
      });
    });

    describe('lifecycle', () => {
      check(['operation.get-host-info'], 'host info and resources', async () => {
        const info = await driver.getHostInfo();
        expect(info.hypervisorType).toBeTruthy();
        expect(info.cpus).toBeGreaterThan(0);
        const res = await driver.getAvailableResource();
        expect(res.memoryMb).toBeGreaterThan(0);
      });

      it(`${options.label}: destroying a missing instance succeeds`, async () => {
        await expect(driver.destroy({ uuid: randomUUID(), name: `vp-missing-${suffix}` })).resolves.toBeUndefined();
      }, timeout);

      it(`${options.label}: an unknown instance is not found`, async () => {
        const err = await driver.getInfo({ uuid: randomUUID(), name: `vp-missing-${suffix}` }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(VirtplugError);
        expect((err as VirtplugError).code).toBe('not_found');
      }, timeout);

      check(['operation.launch'], 'a failed spawn leaves nothing behind', async () => {
        const bad: Instance = { uuid: randomUUID(), name: `vp-contract-bad-${suffix}`, flavor };
        const badImage = options.badImage ?? { ...options.image, id: 'missing', path: `/nonexistent/virtplug-${suffix}.qcow2` };
        await expect(driver.spawn(bad, badImage)).rejects.toBeInstanceOf(VirtplugError);
        expect(await driver.instanceExists(bad)).toBe(false);
        if (options.leftovers) expect(await options.leftovers(bad)).toEqual([]);
      });

      check(['operation.launch', 'storage.image'], 'spawn from an image ends running', async () => {
        const info = await driver.spawn(instance, options.image);
        launched = true;
        expect(info.state).toBe(PowerState.RUNNING);
        expect(await driver.instanceExists(instance)).toBe(true);
        expect(await driver.listInstances()).toContain(instance.name);
        await settle();
      });

      check(['operation.get-guest-info'], 'getInfo reports state, memory and vCPUs', async () => {
        requireLaunched();
        const info = await driver.getInfo(instance);
        expect(info.state).toBe(PowerState.RUNNING);
        expect(info.vcpus).toBe(flavor.vcpus);
        expect(info.maxMemKb).toBe(flavor.memoryMb * 1024);
      });

      check(['operation.pause', 'operation.unpause'], 'pause → paused, unpause → running', async () => {
        requireLaunched();
        await driver.pause(instance);
        expect(await state()).toBe(PowerState.PAUSED);
        await driver.unpause(instance);
        expect(await state()).toBe(PowerState.RUNNING);
      });

      check(['operation.suspend', 'operation.resume'], 'suspend → suspended, resume → running with the same boot', async () => {
        requireLaunched();
        const before = options.guest ? await options.guest.identity(instance) : undefined;
        await driver.suspend(instance);
        expect(await state()).toBe(PowerState.SUSPENDED);
        await driver.resume(instance);
        expect(await state()).toBe(PowerState.RUNNING);
        if (before && options.guest) {
          const after = await options.guest.identity(instance);
          expect(after.bootId).toBe(before.bootId);
          expect(after.uptimeSec).toBeGreaterThanOrEqual(before.uptimeSec);
        }
      });

      check(['console.serial.log'], 'serial console log has output', async () => {
        requireLaunched();
        expect((await driver.getConsoleOutput(instance)).length).toBeGreaterThan(0);
      });

      check(['console.vnc'], 'VNC console has a host and port', async () => {
        requireLaunched();
        const c = await driver.getVncConsole(instance);
        expect(c.type).toBe('vnc');
        expect(c.port).toBeGreaterThan(0);
      });

      check(['console.rdp'], 'RDP console has a host and port', async () => {
        requireLaunched();
        const c = await driver.getRdpConsole(instance);
        expect(c.port).toBeGreaterThan(0);
      });

      check(['console.spice'], 'SPICE console has a host and port', async () => {
        requireLaunched();
        const c = await driver.getSpiceConsole(instance);
        expect(c.port).toBeGreaterThan(0);
      });

      for (const kind of ['file', 'nbd', 'iscsi', 'iscsiChap'] as const) {
        const features: FeatureId[] = ['operation.attach-volume', 'operation.detach-volume', 'storage.block'];
        if (kind === 'iscsi' || kind === 'iscsiChap') features.push('storage.block.backend.iscsi');
        if (kind === 'iscsiChap') features.push('storage.block.backend.iscsi.auth.chap');
        const make = options.volumes?.[kind];
        if (!make) continue;
        check(features, `attach and detach a ${kind} volume`, async () => {
          requireLaunched();
          const fixture = await make();
          try {
            await driver.attachVolume(instance, fixture.connectionInfo, fixture.mountpoint);
            await fixture.verify?.(instance);
            await driver.detachVolume(instance, fixture.connectionInfo, fixture.mountpoint);
          } finally {
            await fixture.cleanup?.();
          }
        });
      }

      check(['operation.snapshot'], 'snapshot exports a bootable image', async () => {
        requireLaunched();
        const image = await driver.snapshot(instance, { imageName: `vp-snap-${suffix}` });
        expect(image.path).toBeTruthy();
        const copy: Instance = { uuid: randomUUID(), name: `vp-contract-snap-${suffix}`, flavor };
        try {
          expect((await driver.spawn(copy, image)).state).toBe(PowerState.RUNNING);
        } finally {
          await driver.destroy(copy);
        }
      });

      check(['operation.reboot'], 'soft and hard reboot end running; hard reboot boots anew', async () => {
        requireLaunched();
        await driver.reboot(instance, 'SOFT');
        expect(await state()).toBe(PowerState.RUNNING);
        await settle();
        const before = options.guest ? await options.guest.identity(instance) : undefined;
        await driver.reboot(instance, 'HARD');
        expect(await state()).toBe(PowerState.RUNNING);
        await settle();
        if (before && options.guest) expect((await options.guest.identity(instance)).bootId).not.toBe(before.bootId);
      });

      check(['operation.restore'], 'power off → shutdown, power on → running', async () => {
        requireLaunched();
        await driver.powerOff(instance, { timeoutSec: 10, retryIntervalSec: 2 });
        expect(await state()).toBe(PowerState.SHUTDOWN);
        await driver.powerOn(instance);
        expect(await state()).toBe(PowerState.RUNNING);
        await settle();
      });

      check(['operation.resize'], 'resize changes memory and vCPUs', async () => {
        requireLaunched();
        const target = options.resizeFlavor ?? { ...flavor, name: 'm1.resized', memoryMb: flavor.memoryMb + 128 };
        await driver.resize(instance, target);
        const info = await driver.getInfo(instance);
        expect(info.maxMemKb).toBe(target.memoryMb * 1024);
        expect(info.vcpus).toBe(target.vcpus);
        await settle();
      });

      check(['operation.rescue'], 'rescue and unrescue', async () => {
        requireLaunched();
        await driver.rescue(instance, {});
        expect((await driver.getInfo(instance)).vmState).toBe('rescued');
        await driver.unrescue(instance);
        expect((await driver.getInfo(instance)).vmState).not.toBe('rescued');
        await settle();
      });

      check(['operation.set-admin-password'], 'set admin password', async () => {
        requireLaunched();
        await driver.setAdminPassword(instance, `pw-${suffix}`);
      });

      check(['operation.terminate'], 'destroy removes the instance, and a second destroy succeeds', async () => {
        requireLaunched();
        await driver.destroy(instance);
        expect(await driver.instanceExists(instance)).toBe(false);
        await driver.destroy(instance);
        if (options.leftovers) expect(await options.leftovers(instance)).toEqual([]);
      });
    });
  });

  function requireLaunched(): void {
    if (!launched) throw new Error('the contract instance was not launched; see the spawn check');
  }
}

/** Calls an operation with placeholder arguments: enough to reach an unsupported-operation guard. */
function callWithDummies(driver: ComputeDriver, op: ComputeOperation, ghost: InstanceRef): Promise<unknown> {
  const ci: VolumeConnectionInfo = { driverVolumeType: 'file', volumeId: 'ghost', data: { path: '/nonexistent' } };
  const fn = (driver[op] as (...a: unknown[]) => Promise<unknown>).bind(driver);
  switch (op) {
    case 'spawn':
      return fn({ ...ghost, flavor: DEFAULT_FLAVOR }, { id: 'ghost', name: 'ghost', diskFormat: 'qcow2', path: '/nonexistent' });
    case 'reboot':
      return fn(ghost, 'HARD');
    case 'attachVolume':
    case 'detachVolume':
      return fn(ghost, ci, '/dev/vdz');
    case 'swapVolume':
      return fn(ghost, ci, ci, '/dev/vdz');
    case 'resize':
      return fn(ghost, DEFAULT_FLAVOR);
    case 'snapshot':
      return fn(ghost, { imageName: 'ghost' });
    case 'setAdminPassword':
      return fn(ghost, 'x');
    default:
      return fn(ghost);
  }
}
