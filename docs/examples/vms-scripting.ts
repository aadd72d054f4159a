// Gridcentric's VMS scripting example (novaclient, seed 001), ported to the virtplug library:
// boot a server, bless it, launch two clones two ways, list them, delete them, delete the original
// (its live image outlives it) and discard the live image.
//
// Run: node --conditions=development --import tsx docs/examples/vms-scripting.ts
// Needs libvirtd (bash tools/libvirt/start-libvirtd.sh) and the guest image (bash tools/guest-image/build.sh).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasGuestAgent, hasVmStreaming, loadDriver, rootLogger, type ComputeDriver, type ImageMeta } from '@virtplug/core';

export async function vmsScripting(driver: ComputeDriver, image: ImageMeta, print: (line: string) => void): Promise<void> {
  if (!hasVmStreaming(driver)) throw new Error(`driver ${driver.name} has no VM streaming (driver.vms)`);
  const vms = driver.vms;

  // Boot a new server; like the seed, wait until it is ACTIVE (and its agent, the vms-agent, answers).
  const server = { uuid: randomUUID(), name: `vp-vms-example-${randomUUID().slice(0, 6)}`, flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 0 } };
  await driver.spawn(server, image);
  await vms.waitForStatus(server.uuid, 'ACTIVE');
  if (hasGuestAgent(driver)) await driver.guestAgent(server).waitReady(120_000);

  // Bless the server. This returns the blessed server, which becomes BLESSED.
  const blessed = await vms.bless(server.uuid);
  await vms.waitForStatus(blessed.uuid, 'BLESSED');

  // Launch a new server based off of the blessed one: on the blessed server itself, or through the manager.
  const [launched] = await blessed.launch();
  const [launched2] = await vms.launch(blessed.uuid);

  // List the servers that were launched from the blessed one.
  for (const s of await blessed.listLaunched()) print(`Server ${s.uuid} was launched from ${blessed.uuid}`);

  // Delete the launched servers: one through its own object, one through the driver (novaclient.servers.delete).
  await vms.waitForStatus(launched2!.uuid, 'ACTIVE');
  await launched2!.delete();
  await vms.waitForStatus(launched!.uuid, 'ACTIVE');
  await driver.destroy(launched!);

  // The launched instances must be gone before the blessed one is discarded.
  await vms.waitForStatus(launched2!.uuid, 'DELETED');
  await vms.waitForStatus(launched!.uuid, 'DELETED');

  // Delete the original server; the blessed one stays usable without it.
  await driver.destroy(server);

  // Discard the blessed server.
  await blessed.discard();
  print(`Discarded ${blessed.uuid}; ${(await driver.listInstances()).filter((n) => n.startsWith(server.name)).length} of its instances left`);
}

/** The project's test guest (tools/guest-image). */
export function guestImage(dir = '/var/lib/virtplug/guest-image'): ImageMeta {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`no guest image in ${dir}; run: bash tools/guest-image/build.sh`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cmdline?: string };
  return {
    id: 'virtplug-guest',
    name: 'virtplug guest',
    diskFormat: 'qcow2',
    path: join(dir, 'data.qcow2'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    cmdline: manifest.cmdline ?? 'console=ttyS0',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const statePath = mkdtempSync('/var/tmp/vp-vms-example-');
  const driver = await loadDriver(
    { computeDriver: 'libvirt', statePath, libvirt: { vms_mode: 'shared', vnc_enabled: false } },
    { logger: rootLogger('silent') },
  );
  try {
    await vmsScripting(driver, guestImage(), (line) => console.log(line));
  } finally {
    await driver.close();
    rmSync(statePath, { recursive: true, force: true });
  }
}
