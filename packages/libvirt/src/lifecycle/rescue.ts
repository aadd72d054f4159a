import { readFile, rm, writeFile } from 'node:fs/promises';
import { InvalidStateError, NotFoundError, PowerState, type InstanceRef, type RescueOptions } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { diskElement } from '../xml/build.js';
import { applyMetadata } from '../xml/metadata.js';
import { validateUuid } from '../xml/names.js';
import { readDomain } from '../xml/read.js';
import { child, cloneXml, elements, ensureChild, isElement, parseXml, removeChildren, serializeXml, setText, type XmlElement } from '../xml/tree.js';

async function stopHard(deps: LibvirtDriverDeps, uuid: string): Promise<void> {
  const s = await deps.domains.powerState(uuid);
  if (s === PowerState.SUSPENDED) await deps.transport.managedSaveRemove(uuid);
  else if (s !== PowerState.SHUTDOWN) await deps.transport.destroy(uuid).catch((e: unknown) => { if (!(e instanceof InvalidStateError)) throw e; });
}

function setOsText(tree: XmlElement, name: 'kernel' | 'initrd' | 'cmdline', value: string | undefined): void {
  const os = ensureChild(tree, 'os');
  if (value === undefined) removeChildren(os, (e) => e.name === name);
  else setText(ensureChild(os, name), value);
}

async function emitRestart(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const state = await deps.domains.powerState(ref.uuid);
  if (state === PowerState.RUNNING) deps.events.pulse(ref, ['STOPPED', 'STARTED']);
  deps.events.observe(ref, state);
}

/**
 * Rescue (Nova): boot a rescue image with the instance's own root disk attached as the second disk
 * (vdb), so the user can repair it. The rescue image is `options.image` or, by default, the
 * instance's own image (a fresh overlay on its cached base, same kernel and initrd). The original
 * definition is kept in `<instance dir>/unrescue.xml`; other volumes stay out of the rescue domain.
 */
export async function rescue(deps: LibvirtDriverDeps, ref: InstanceRef, options: RescueOptions = {}): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const { files, transport } = deps;
  const original = await transport.getXml(uuid, { inactive: true, secure: true });
  const tree = parseXml(original);
  const view = readDomain(tree);
  if (view.metadata?.rescued) throw new InvalidStateError(`Instance ${ref.name} is already in rescue mode; unrescue it first.`);
  const devices = child(tree, 'devices');
  const rootIndex = !devices ? -1 : elements(devices, 'disk').findIndex((d) => child(d, 'target')?.attrs.dev === 'vda');
  const root = view.spec.disks.find((d) => d.target === 'vda');
  if (!root || root.kind !== 'file' || rootIndex < 0) throw new InvalidStateError(`Instance ${ref.name} has no file root disk (vda) to rescue.`);

  let base: { disk: string; format: string; kernel?: string; initrd?: string; cmdline?: string };
  if (options.image) {
    const cached = await deps.images.ensure(options.image);
    base = { ...cached, ...(options.image.cmdline !== undefined ? { cmdline: options.image.cmdline } : {}) };
  } else {
    const backing = (await deps.qemuImg.info(root.path)).backingFile;
    if (!backing) throw new NotFoundError('Rescue image', ref.name, `the root disk ${root.path} has no backing image; pass RescueOptions.image`);
    base = { disk: backing, format: 'qcow2', ...view.spec.os };
  }

  await writeFile(files.unrescueXml(uuid), original, { mode: 0o600 });
  const rescueDisk = files.rescueDisk(uuid);
  await rm(rescueDisk, { force: true });
  await deps.qemuImg.createOverlay(rescueDisk, base.disk, base.format);

  const oldRoot = cloneXml(elements(devices!, 'disk')[rootIndex]!);
  removeChildren(oldRoot, (e) => e.name === 'address' || e.name === 'alias' || e.name === 'boot');
  child(oldRoot, 'target')!.attrs.dev = 'vdb';
  const firstDisk = devices!.children.findIndex((c) => isElement(c) && c.name === 'disk');
  removeChildren(devices!, (e) => e.name === 'disk');
  const rescueEl = diskElement({ kind: 'file', path: rescueDisk, format: 'qcow2', target: 'vda', bus: 'virtio', cache: deps.config.disk_cachemodes });
  devices!.children.splice(firstDisk, 0, rescueEl, oldRoot);
  setOsText(tree, 'kernel', base.kernel);
  setOsText(tree, 'initrd', base.initrd);
  setOsText(tree, 'cmdline', base.kernel ? base.cmdline ?? view.spec.os.cmdline : undefined);
  applyMetadata(tree, { rescued: true });

  await stopHard(deps, uuid);
  try {
    await transport.define(serializeXml(tree));
    await transport.start(uuid);
  } catch (e) {
    await transport.destroy(uuid).catch(() => undefined);
    await transport.define(original).catch(() => undefined);
    await rm(rescueDisk, { force: true });
    throw e;
  }
  await emitRestart(deps, ref);
}

/** Unrescue: stop the rescue domain, restore the saved definition, boot it, drop the rescue disk. */
export async function unrescue(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<void> {
  const uuid = validateUuid(ref.uuid);
  const view = await deps.domains.view(uuid, { inactive: true });
  if (!view.metadata?.rescued) throw new InvalidStateError(`Instance ${ref.name} is not in rescue mode.`);
  const original = await readFile(deps.files.unrescueXml(uuid), 'utf8').catch(() => {
    throw new NotFoundError('Unrescue definition', deps.files.unrescueXml(uuid), 'the instance directory lost it; redefine the instance by hand');
  });
  const tree = parseXml(original);
  applyMetadata(tree, { rescued: false });
  await stopHard(deps, uuid);
  await deps.transport.define(serializeXml(tree));
  await deps.transport.start(uuid);
  await rm(deps.files.rescueDisk(uuid), { force: true });
  await rm(deps.files.unrescueXml(uuid), { force: true });
  await emitRestart(deps, ref);
}
