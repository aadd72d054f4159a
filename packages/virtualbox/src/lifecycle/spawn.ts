import { mkdirSync } from 'node:fs';
import { ConflictError, type ImageMeta, type Instance, type SpawnOptions } from '@virtplug/core';
import { EXTRADATA_IMAGE, SATA, SATA_PORTS, type DriverContext } from '../context.js';
import { nicArgs } from '../network/nics.js';
import { checkImageFile, createDiskFromImage } from '../storage/disks.js';
import { startVm } from './power.js';
import { destroyVm } from './destroy.js';

function osType(image: ImageMeta): string {
  const p = image.properties ?? {};
  return p.vbox_ostype ?? p.os_type_vbox ?? (p.os_type === 'windows' ? 'Windows2019_64' : 'Linux_64');
}

/**
 * Nova's spawn: createvm (machine UUID = instance UUID, in its own folder) → modifyvm (memory, CPUs,
 * NICs, serial log, VRDE) → SATA controller → root disk from the image → attach → startvm headless.
 * Any failure removes everything created so far (`unregistervm --delete`, the folder, the VRDE port).
 */
export async function spawn(ctx: DriverContext, instance: Instance, image: ImageMeta, options: SpawnOptions = {}): Promise<void> {
  checkImageFile(image);
  if (image.kernel || options.userData) {
    ctx.logger.warn({ uuid: instance.uuid }, 'VirtualBox boots from the disk only: kernel/initrd and user data are ignored');
  }
  if (await ctx.vbox.findVm(instance.uuid)) {
    throw new ConflictError(`Instance ${JSON.stringify(instance.name)} (${instance.uuid}) already exists in VirtualBox.`, { uuid: instance.uuid });
  }
  const dir = ctx.paths.dir(instance.uuid);
  mkdirSync(dir, { recursive: true });
  try {
    await ctx.vbox.run(['createvm', '--name', instance.name, '--uuid', instance.uuid, '--basefolder', dir, '--ostype', osType(image), '--register'], {
      target: instance.name,
    });
    const vrde = ctx.vrde.enabled ? await ctx.vrde.modifyArgs(instance) : ['--vrde', 'off'];
    await ctx.vbox.modifyVm(instance.uuid, [
      '--memory', String(instance.flavor.memoryMb),
      '--cpus', String(instance.flavor.vcpus),
      '--acpi', 'on',
      '--ioapic', 'on',
      '--boot1', 'disk', '--boot2', 'none', '--boot3', 'none', '--boot4', 'none',
      ...nicArgs(options.networkInfo ?? instance.networkInfo),
      '--uart1', '0x3F8', '4', '--uartmode1', 'file', ctx.paths.consoleLog(instance.uuid),
      ...vrde,
    ]);
    await ctx.vbox.run(['storagectl', instance.uuid, '--name', SATA, '--add', 'sata', '--controller', 'IntelAhci', '--portcount', String(SATA_PORTS), '--bootable', 'on'], {
      target: instance.name,
    });
    const root = ctx.paths.rootDisk(instance.uuid);
    await createDiskFromImage(ctx, image, root, instance.flavor);
    await ctx.vbox.run(['storageattach', instance.uuid, '--storagectl', SATA, '--port', '0', '--device', '0', '--type', 'hdd', '--medium', root], {
      target: instance.name,
    });
    // Remembered for rescue, which boots this image by default (as Nova does).
    await ctx.vbox.setExtraData(instance.uuid, EXTRADATA_IMAGE, JSON.stringify({ id: image.id, name: image.name, diskFormat: image.diskFormat, path: image.path }));
    if (options.powerOn !== false) {
      await startVm(ctx, instance, await ctx.vbox.showVmInfo(instance.uuid));
      ctx.emit(instance, 'STARTED');
    } else {
      ctx.vrde.release(instance.uuid);
    }
  } catch (e) {
    ctx.logger.warn({ uuid: instance.uuid, err: (e as Error).message }, 'spawn failed; removing what was created');
    await destroyVm(ctx, instance, { destroyDisks: true }).catch((cleanupError: unknown) =>
      ctx.logger.error({ uuid: instance.uuid, err: (cleanupError as Error).message }, 'cleanup after a failed spawn failed'),
    );
    throw e;
  }
}
