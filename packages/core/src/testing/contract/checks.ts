import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FeatureId } from '../../capabilities/catalogue.js';
import type { ComputeDriver, ComputeOperation } from '../../driver/compute-driver.js';
import { FEATURE_OPERATIONS } from '../../driver/operations.js';
import { UnsupportedOperationError, VirtplugError } from '../../errors.js';
import { PowerState, type Flavor, type Instance, type InstanceRef, type VolumeConnectionInfo } from '../../model/index.js';
import type { ContractOptions, VolumeKind } from './options.js';
import { swapCheck } from './swap-check.js';

export interface ContractCheck {
  name: string;
  /** The features this check backs; a check runs only if the driver claims at least one of them. */
  features: FeatureId[];
  /** Checks with no features always run (they test the contract, not a claim). */
  run(): Promise<void>;
  /** Features to record from inside the check (the missing-operations sweep records per feature). */
  records?: boolean;
}

export interface ContractState {
  driver: ComputeDriver;
  record(feature: FeatureId, result: 'pass' | 'fail' | 'skip', note?: string, check?: string): void;
}

export const DEFAULT_FLAVOR: Flavor = { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 };

/**
 * The checks of the driver contract, in order, sharing one instance (a real guest boots once). Plain
 * async functions with node:assert, so jest and `virtplug smoke` run the very same code.
 */
export function contractChecks(options: ContractOptions, ctx: ContractState): ContractCheck[] {
  const flavor = options.flavor ?? DEFAULT_FLAVOR;
  const suffix = randomUUID().slice(0, 8);
  const instance: Instance = { uuid: randomUUID(), name: `vp-contract-${suffix}`, flavor };
  let launched = false;
  const d = () => ctx.driver;
  const state = async () => (await d().getInfo(instance)).state;
  const settle = async () => options.waitForGuest?.(d(), instance);
  const need = () => assert.ok(launched, 'the contract instance was not launched; see the spawn check');
  const check = (features: FeatureId[], name: string, run: () => Promise<void>): ContractCheck => ({ name, features, run });

  const checks: ContractCheck[] = [
    {
      name: 'every missing operation throws UnsupportedOperationError',
      features: [],
      records: true,
      async run() {
        const ghost: InstanceRef = { uuid: randomUUID(), name: 'vp-contract-ghost' };
        for (const [feature, ops] of Object.entries(FEATURE_OPERATIONS)) {
          if ((d().capabilities[feature]?.status ?? 'missing') !== 'missing') continue;
          for (const op of ops) {
            const err = await callWithDummies(d(), op, ghost).then(() => undefined, (e: unknown) => e);
            const ok = err instanceof UnsupportedOperationError;
            ctx.record(feature, ok ? 'pass' : 'fail', ok ? 'declared missing; refused' : `declared missing but ${op} did not refuse`, `${op} refused`);
            assert.ok(ok, `${feature} is declared missing but ${op} did not throw UnsupportedOperationError (got ${String(err)})`);
          }
        }
      },
    },
    check(['operation.get-host-info'], 'host info and resources', async () => {
      const info = await d().getHostInfo();
      assert.ok(info.hypervisorType, 'hypervisorType is empty');
      assert.ok(info.cpus > 0, 'host reports no CPUs');
      assert.ok((await d().getAvailableResource()).memoryMb > 0, 'host reports no memory');
    }),
    check([], 'destroying a missing instance succeeds', async () => {
      assert.equal(await d().destroy({ uuid: randomUUID(), name: `vp-missing-${suffix}` }), undefined);
    }),
    check([], 'an unknown instance is not found', async () => {
      const err = await d().getInfo({ uuid: randomUUID(), name: `vp-missing-${suffix}` }).catch((e: unknown) => e);
      assert.ok(err instanceof VirtplugError && err.code === 'not_found', `expected not_found, got ${String(err)}`);
    }),
    check(['operation.launch'], 'a failed spawn leaves nothing behind', async () => {
      const bad: Instance = { uuid: randomUUID(), name: `vp-contract-bad-${suffix}`, flavor };
      const badImage = options.badImage ?? { ...options.image, id: 'missing', path: `/nonexistent/virtplug-${suffix}.qcow2` };
      const err = await d().spawn(bad, badImage).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof VirtplugError, `spawn from a bad image should fail with a virtplug error, got ${String(err)}`);
      assert.equal(await d().instanceExists(bad), false, 'the failed instance still exists');
      if (options.leftovers) assert.deepEqual(await options.leftovers(bad), [], 'the failed spawn left artifacts');
    }),
    check(['operation.launch', 'storage.image'], 'spawn from an image ends running', async () => {
      const info = await d().spawn(instance, options.image);
      launched = true;
      assert.equal(info.state, PowerState.RUNNING);
      assert.equal(await d().instanceExists(instance), true);
      assert.ok((await d().listInstances()).includes(instance.name), 'listInstances does not show the new instance');
      await settle();
    }),
    check(['operation.get-guest-info'], 'getInfo reports state, memory and vCPUs', async () => {
      need();
      const info = await d().getInfo(instance);
      assert.equal(info.state, PowerState.RUNNING);
      assert.equal(info.vcpus, flavor.vcpus);
      assert.equal(info.maxMemKb, flavor.memoryMb * 1024);
    }),
    check(['operation.pause', 'operation.unpause'], 'pause → paused, unpause → running', async () => {
      need();
      await d().pause(instance);
      assert.equal(await state(), PowerState.PAUSED);
      await d().unpause(instance);
      assert.equal(await state(), PowerState.RUNNING);
    }),
    check(['operation.suspend', 'operation.resume'], 'suspend → suspended, resume → running, same boot', async () => {
      need();
      const before = await options.guest?.identity(instance);
      await d().suspend(instance);
      assert.equal(await state(), PowerState.SUSPENDED);
      await d().resume(instance);
      assert.equal(await state(), PowerState.RUNNING);
      if (before && options.guest) {
        const after = await options.guest.identity(instance);
        assert.equal(after.bootId, before.bootId, 'resume rebooted the guest');
        assert.ok(after.uptimeSec >= before.uptimeSec, 'the guest uptime went backwards across suspend/resume');
      }
    }),
    check(['console.serial.log'], 'serial console log has output', async () => {
      need();
      assert.ok((await d().getConsoleOutput(instance)).length > 0, 'empty console log');
    }),
    check(['console.vnc'], 'VNC console has a host and port', async () => {
      need();
      const c = await d().getVncConsole(instance);
      assert.equal(c.type, 'vnc');
      assert.ok(c.host && c.port > 0, `bad VNC console ${JSON.stringify(c)}`);
    }),
    check(['console.rdp'], 'RDP console has a host and port', async () => {
      need();
      assert.ok((await d().getRdpConsole(instance)).port > 0);
    }),
    check(['console.spice'], 'SPICE console has a host and port', async () => {
      need();
      assert.ok((await d().getSpiceConsole(instance)).port > 0);
    }),
    ...volumeChecks(options, () => instance, need, d, check),
    check(['operation.snapshot'], 'snapshot exports a bootable image', async () => {
      need();
      const image = await d().snapshot(instance, { imageName: `vp-snap-${suffix}` });
      assert.ok(image.path, 'snapshot returned no image path');
      const copy: Instance = { uuid: randomUUID(), name: `vp-contract-snap-${suffix}`, flavor };
      try {
        assert.equal((await d().spawn(copy, image)).state, PowerState.RUNNING);
      } finally {
        await d().destroy(copy);
      }
    }),
    check(['operation.reboot'], 'soft and hard reboot end running; hard reboot boots anew', async () => {
      need();
      await d().reboot(instance, 'SOFT');
      assert.equal(await state(), PowerState.RUNNING);
      await settle();
      const before = await options.guest?.identity(instance);
      await d().reboot(instance, 'HARD');
      assert.equal(await state(), PowerState.RUNNING);
      await settle();
      if (before && options.guest) assert.notEqual((await options.guest.identity(instance)).bootId, before.bootId, 'hard reboot kept the boot id');
    }),
    check(['operation.restore'], 'power off → shutdown, power on → running', async () => {
      need();
      await d().powerOff(instance, { timeoutSec: 15, retryIntervalSec: 3 });
      assert.equal(await state(), PowerState.SHUTDOWN);
      await d().powerOn(instance);
      assert.equal(await state(), PowerState.RUNNING);
      await settle();
    }),
    check(['operation.resize'], 'resize changes memory and vCPUs', async () => {
      need();
      const target = options.resizeFlavor ?? { ...flavor, name: 'm1.resized', memoryMb: flavor.memoryMb + 128 };
      await d().resize(instance, target);
      const info = await d().getInfo(instance);
      assert.equal(info.maxMemKb, target.memoryMb * 1024);
      assert.equal(info.vcpus, target.vcpus);
      await settle();
    }),
    check(['operation.rescue'], 'rescue and unrescue', async () => {
      need();
      await d().rescue(instance, {});
      assert.equal((await d().getInfo(instance)).vmState, 'rescued');
      await d().unrescue(instance);
      assert.notEqual((await d().getInfo(instance)).vmState, 'rescued');
      await settle();
    }),
    check(['operation.set-admin-password'], 'set admin password', async () => {
      need();
      await d().setAdminPassword(instance, `pw-${suffix}`);
    }),
    check(['operation.terminate'], 'destroy removes the instance, and a second destroy succeeds', async () => {
      need();
      await d().destroy(instance);
      assert.equal(await d().instanceExists(instance), false);
      await d().destroy(instance);
      if (options.leftovers) assert.deepEqual(await options.leftovers(instance), [], 'destroy left artifacts');
    }),
  ];
  return checks;
}

/** Best-effort removal of the shared instance, whatever state a failed run left it in. */
export function contractCleanup(ctx: ContractState, checks: ContractCheck[]): Promise<void> {
  void checks;
  return Promise.resolve(ctx.driver.listInstanceRefs().catch(() => [])).then(async (refs) => {
    for (const r of refs) if (r.name.startsWith('vp-contract-')) await ctx.driver.destroy(r).catch(() => undefined);
  });
}

function volumeChecks(
  options: ContractOptions,
  instance: () => Instance,
  need: () => void,
  d: () => ComputeDriver,
  check: (f: FeatureId[], n: string, r: () => Promise<void>) => ContractCheck,
): ContractCheck[] {
  const out: ContractCheck[] = [];
  for (const kind of ['file', 'nbd', 'iscsi', 'iscsiChap'] as VolumeKind[]) {
    const make = options.volumes?.[kind];
    if (!make) continue;
    const features: FeatureId[] = ['operation.attach-volume', 'operation.detach-volume', 'storage.block'];
    if (kind === 'iscsi' || kind === 'iscsiChap') features.push('storage.block.backend.iscsi');
    if (kind === 'iscsiChap') features.push('storage.block.backend.iscsi.auth.chap');
    out.push(
      check(features, `attach and detach a ${kind} volume`, async () => {
        need();
        const fixture = await make();
        try {
          await d().attachVolume(instance(), fixture.connectionInfo, fixture.mountpoint);
          await fixture.verify?.(instance());
          await d().detachVolume(instance(), fixture.connectionInfo, fixture.mountpoint);
        } finally {
          await fixture.cleanup?.();
        }
      }),
      check(['operation.swap-volume'], `swap a ${kind} volume for another at the same device`, async () => {
        need();
        await swapCheck(d(), instance(), make);
      }),
    );
  }
  return out;
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
