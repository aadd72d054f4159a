import { InvalidArgumentError, InvalidStateError, PowerState, type Flavor, type InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { applyMetadata } from '../xml/metadata.js';
import { validateUuid } from '../xml/names.js';
import { readDomain } from '../xml/read.js';
import { child, parseXml, serializeXml, setText } from '../xml/tree.js';
import { powerOff } from './power.js';

const GIB = 1024 ** 3;

/**
 * Resize to a flavor (vCPUs, memory, a bigger root disk): stop the guest (cleanly, then hard), rewrite
 * the persistent definition with a read-modify-write that keeps every other element, grow the root
 * overlay if the flavor asks for more, and start it again if it was running. A shrinking root disk is
 * refused (data would be lost).
 */
export async function resize(deps: LibvirtDriverDeps, ref: InstanceRef, flavor: Flavor): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  if (!(flavor.memoryMb > 0) || !Number.isInteger(flavor.memoryMb)) throw new InvalidArgumentError('flavor memoryMb', flavor.memoryMb, 'a positive integer');
  if (!(flavor.vcpus > 0) || !Number.isInteger(flavor.vcpus)) throw new InvalidArgumentError('flavor vcpus', flavor.vcpus, 'a positive integer');
  const tree = parseXml(await deps.transport.getXml(uuid, { inactive: true, secure: true }));
  const view = readDomain(tree);
  if (view.metadata?.rescued) throw new InvalidStateError(`Instance ${ref.name} is in rescue mode; unrescue it before resizing.`);
  const state = await deps.domains.powerState(uuid);
  if (state === PowerState.SUSPENDED) throw new InvalidStateError(`Instance ${ref.name} is suspended; resume it before resizing (its saved memory has the old size).`);

  const previousRootGb = view.metadata?.flavor?.rootGb ?? 0;
  if ((flavor.rootGb || 0) < previousRootGb) {
    throw new InvalidArgumentError('flavor rootGb', flavor.rootGb, `at least the current flavor's ${previousRootGb} GiB; disks cannot shrink`);
  }
  const root = view.spec.disks.find((d) => d.target === 'vda' && d.kind === 'file');
  const wantBytes = (flavor.rootGb || 0) * GIB;
  const rootInfo = root?.kind === 'file' && wantBytes > 0 ? await deps.qemuImg.info(root.path) : undefined;

  const wasRunning = state === PowerState.RUNNING || state === PowerState.PAUSED;
  if (wasRunning) await powerOff(deps, ref, { timeoutSec: deps.config.shutdown_timeout, retryIntervalSec: deps.config.shutdown_retry_interval });

  const kib = String(flavor.memoryMb * 1024);
  for (const name of ['memory', 'currentMemory']) {
    const e = child(tree, name);
    if (!e) continue;
    e.attrs = { ...e.attrs, unit: 'KiB' };
    setText(e, kib);
  }
  const vcpu = child(tree, 'vcpu');
  if (vcpu) {
    delete vcpu.attrs.current;
    setText(vcpu, String(flavor.vcpus));
  }
  applyMetadata(tree, { flavor });
  deps.vmsHooks?.prepareMemoryChange(tree);
  await deps.transport.define(serializeXml(tree));
  if (rootInfo && wantBytes > rootInfo.virtualSize && root?.kind === 'file') await deps.qemuImg.resize(root.path, wantBytes);
  if (wasRunning) {
    await deps.transport.start(uuid);
    deps.events.observe(ref, await deps.domains.powerState(uuid));
  }
}
