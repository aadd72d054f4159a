import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  InvalidArgumentError,
  InvalidStateError,
  type CaptureOptions,
  type Instance,
  type InstanceRef,
  type MachineSignature,
  type MemoryImage,
  type MemoryImages,
  type RestoreOptions,
} from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import { child, parseXml, textOf } from '../xml/tree.js';
import { validateDomainName, validateUuid } from '../xml/names.js';
import { diskTargets, pauseAndCapture } from './capture.js';
import { interfaceMacs, sharedWritableDisks, writableFileDisks } from './clone-xml.js';
import type { VmsContext } from './context.js';
import { domainState } from './domains.js';
import { FileLock } from './locks.js';
import { launchOne, removeClone } from './launch-one.js';
import { hostnameFor, randomMac } from './names.js';
import { currentOwner } from './owner.js';
import { validateParams } from './params.js';
import { readSaveImageHead } from './save-image.js';
import { memoryBytes, readRamBackend } from './shared-ram.js';

/**
 * core's MemoryImages on libvirt, the same mechanism as shared-mode bless/launch: capture writes
 * `ram` (the template's RAM file copied: the pc/vpram block byte for byte, i.e. guest-physical
 * layout for guests below the 3.5 GiB PCI hole), `state.img` (a libvirt save image whose stream
 * holds device state only, thanks to x-ignore-shared) and `disk.qcow2` (the frozen top layer of the
 * first disk, backing on the instance's base by absolute path). restore maps `ramPath` MAP_PRIVATE
 * under a new identity; the RAM file must not change while instances restored from it run.
 */
export class LibvirtMemoryImages implements MemoryImages {
  constructor(private readonly ctx: VmsContext) {}

  async machineSignature(): Promise<MachineSignature> {
    const caps = await this.ctx.virsh.run(['capabilities']);
    const canonical = /<machine[^>]*canonical=['"]([^'"]+)['"][^>]*>pc<\/machine>/.exec(caps)?.[1] ?? 'pc';
    return { machineType: canonical, qemuVersion: (await this.ctx.transport.versions()).hypervisorVersion, cpuModel: 'qemu64', virtType: 'qemu' };
  }

  async capture(instance: InstanceRef, dir: string, options: CaptureOptions = {}): Promise<MemoryImage> {
    const uuid = validateUuid(instance.uuid);
    if ((await domainState(this.ctx, uuid)) !== DomainState.RUNNING) {
      throw new InvalidStateError(`Instance ${uuid} is not running; only a running instance can be captured.`, { id: uuid });
    }
    const out = resolve(dir);
    const lock = await FileLock.acquire(this.ctx.layout.lock(uuid), 'bless', `Instance ${uuid}`);
    try {
      const tree = parseXml(await this.ctx.transport.getXml(uuid, { secure: true }));
      const ram = readRamBackend(tree);
      if (ram?.kind !== 'file' || !ram.share) {
        throw new InvalidStateError(
          `Instance ${uuid} does not run on a shared RAM file, so its memory cannot be captured as a flat file; spawn it on a host with [libvirt] vms_mode = shared.`,
          { id: uuid },
        );
      }
      const disks = writableFileDisks(tree);
      const disk = disks[0];
      if (!disk || disks.length > 1 || sharedWritableDisks(tree).length) {
        throw new InvalidStateError(`Instance ${uuid} must have exactly one writable disk, a file (it has ${disks.length} file disks and ${sharedWritableDisks(tree).length} volumes); a memory image holds one disk.`, { id: uuid });
      }
      await mkdir(out, { recursive: true, mode: 0o700 });
      const image = { ram: join(out, 'ram'), state: join(out, 'state.img'), disk: join(out, 'disk.qcow2') };
      await pauseAndCapture(this.ctx, uuid, {
        state: image.state,
        snapshotName: `vms-capture-${Date.now()}`,
        diskTargets: diskTargets(tree),
        disks: [{ src: disk.path, dst: image.disk }],
        ram: { src: ram.path, dst: image.ram },
        ...(options.keepPaused ? { keepPaused: true } : {}),
      });
      const head = await readSaveImageHead(image.state);
      const saved = parseXml(head.xml);
      return {
        ramPath: image.ram,
        ramBytes: memoryBytes(saved),
        statePath: image.state,
        diskPath: image.disk,
        diskFormat: 'qcow2',
        machine: await this.signatureOf(head.xml),
        descriptor: head.xml,
      };
    } finally {
      lock.release();
    }
  }

  async restore(image: MemoryImage, instance: Instance, options: RestoreOptions = {}): Promise<InstanceRef> {
    const uuid = validateUuid(instance.uuid);
    validateDomainName(instance.name);
    const params = validateParams(options.params);
    const here = await this.machineSignature();
    const img = image.machine;
    if (img.qemuVersion !== here.qemuVersion || img.virtType !== here.virtType) {
      throw new InvalidStateError(
        `Memory image was taken on QEMU ${img.qemuVersion} (${img.virtType}); this host runs QEMU ${here.qemuVersion} (${here.virtType}). Restore it on a matching host.`,
        { image: img, host: here },
      );
    }
    const size = (await stat(image.ramPath)).size;
    if (size !== image.ramBytes) throw new InvalidArgumentError(`RAM file ${image.ramPath} size`, size, `${image.ramBytes} bytes (the captured guest RAM)`);
    const head = await readSaveImageHead(image.statePath);
    const tree = parseXml(head.xml);
    const disk = writableFileDisks(tree)[0];
    if (!disk) throw new InvalidArgumentError('memory image descriptor', 'no writable disk', 'a domain with one file disk');
    const dir = this.ctx.layout.restoredDir(uuid);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, 'pending.json'), JSON.stringify({ ...currentOwner(), at: new Date().toISOString() }), { mode: 0o600 });
    const macs = interfaceMacs(tree).map((_, i) => instance.networkInfo?.[i]?.address ?? randomMac());
    if (options.diskPath !== undefined && !options.diskPath.startsWith('/')) throw new InvalidArgumentError('diskPath', options.diskPath, 'an absolute path');
    const plan = {
      uuid,
      name: instance.name,
      hostname: hostnameFor(instance.hostname ?? instance.name, `vm-${uuid.slice(0, 8)}`),
      macs,
      dir,
      ...(options.diskPath ? { diskPaths: { [disk.target]: resolve(options.diskPath) } } : {}),
    };
    let ram = image.ramPath;
    if (options.ownRam) {
      // A RAM file of its own, mapped shared like a spawned instance's, so the instance can be captured.
      ram = this.ctx.layout.liveRam(uuid);
      await mkdir(dirname(ram), { recursive: true, mode: 0o700 });
      if (options.ownRam === 'move') await rename(image.ramPath, ram).catch(async () => (await copyFile(image.ramPath, ram), await rm(image.ramPath, { force: true })));
      else await copyFile(image.ramPath, ram);
    }
    try {
      const rec = await launchOne(
        this.ctx,
        {
          launchedFrom: null,
          blessedFrom: textOf(child(tree, 'uuid')) ?? '',
          mode: 'shared',
          xml: head.xml,
          state: image.statePath,
          ram,
          ramOwned: options.ownRam !== undefined,
          disks: [{ target: disk.target, path: image.diskPath, format: image.diskFormat }],
        },
        plan,
        params,
      );
      return { uuid: rec.uuid, name: rec.name };
    } catch (e) {
      await removeClone(this.ctx, dir, uuid).catch(() => undefined);
      if (options.ownRam) await rm(ram, { force: true });
      if (options.diskPath) await rm(resolve(options.diskPath), { force: true });
      throw e;
    }
  }

  private async signatureOf(xml: string): Promise<MachineSignature> {
    const tree = parseXml(xml);
    const type = child(child(tree, 'os'), 'type');
    return {
      machineType: type?.attrs.machine ?? 'pc',
      qemuVersion: (await this.ctx.transport.versions()).hypervisorVersion,
      cpuModel: textOf(child(child(tree, 'cpu'), 'model'))?.trim() || 'qemu64',
      virtType: tree.attrs.type ?? 'qemu',
    };
  }
}
