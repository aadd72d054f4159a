import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { InvalidArgumentError, type ContractOptions, type ImageMeta, type InstanceRef } from '@virtplug/core';
import type { VirtualBoxDriver } from './driver.js';

export const GUEST_IMAGE = '/var/lib/virtplug/guest-image/data.qcow2';

/** Whether vboxmanage_cmd is the replay harness (bin/fake-vboxmanage.js or its npm bin link). */
export function isReplayHarness(cmd: string): boolean {
  return /^fake-vboxmanage(\.js)?$/.test(basename(cmd));
}

/** Where the harness keeps its state, as bin/harness/state.js resolves it. */
export function harnessHomeFor(env: NodeJS.ProcessEnv = process.env): string {
  return env.FAKE_VBOX_HOME || join(tmpdir(), `fake-vboxmanage-${userInfo().uid}`);
}

/** A minimal QCOW2 header (magic, version 3, virtual size): an image file VirtualBox can identify. */
export function writeQcow2Header(path: string, sizeMb = 64): string {
  const header = Buffer.alloc(104);
  header.writeUInt32BE(0x514649fb, 0);
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(BigInt(sizeMb) * 1048576n, 24);
  writeFileSync(path, header);
  return path;
}

export interface SmokeSetup {
  evidenceDir: string;
  /** Scratch space for images and volumes; removed by the caller. */
  scratchDir: string;
  label?: string;
  file?: string;
  /** The harness's home when the driver runs against the replay harness (for the iSCSI check). */
  harnessHome?: string;
  /** Live runs boot this image; default VIRTPLUG_VBOX_IMAGE or the project's guest image. */
  image?: ImageMeta;
  timeoutMs?: number;
}

function liveImage(): ImageMeta {
  const path = process.env.VIRTPLUG_VBOX_IMAGE ?? GUEST_IMAGE;
  if (!existsSync(path)) {
    throw new InvalidArgumentError('VirtualBox contract image', path, 'a bootable disk image: set VIRTPLUG_VBOX_IMAGE, or build the guest with bash tools/guest-image/build.sh');
  }
  const format = (/\.(vdi|vmdk|vhd|raw|qcow2)$/.exec(path)?.[1] ?? 'qcow2') as ImageMeta['diskFormat'];
  return { id: 'vp-vbox-image', name: basename(path), diskFormat: format, path };
}

/** What is left of an instance on the backend: its machine, its folder, media under its folder. */
export async function leftovers(driver: VirtualBoxDriver, instance: InstanceRef): Promise<string[]> {
  const dir = driver.ctx.paths.dir(instance.uuid);
  const out: string[] = [];
  if ((await driver.ctx.vbox.listVms()).some((vm) => vm.uuid.toLowerCase() === instance.uuid.toLowerCase())) out.push(`machine ${instance.uuid}`);
  if (existsSync(dir)) out.push(`folder ${dir}`);
  for (const m of await driver.ctx.vbox.listHdds()) if (m.location?.startsWith(dir)) out.push(`medium ${m.location}`);
  return out;
}

/**
 * The contract kit's options for this driver against whatever VBoxManage it is configured with: the
 * replay harness (evidence `replay`, a generated image, file and iSCSI/CHAP volumes checked against the
 * harness's registry) or a real VirtualBox (evidence `live`, a real image, file volumes).
 */
export function contractOptions(driver: VirtualBoxDriver, setup: SmokeSetup): ContractOptions {
  const replay = isReplayHarness(driver.ctx.settings.cmd);
  mkdirSync(setup.scratchDir, { recursive: true });
  const image = setup.image ?? (replay ? { id: 'vp-vbox-image', name: 'guest', diskFormat: 'qcow2' as const, path: writeQcow2Header(join(setup.scratchDir, 'guest.qcow2')) } : liveImage());
  const junk = join(setup.scratchDir, 'junk.vdi');
  writeFileSync(junk, 'this is not a disk image\n');
  const vbox = driver.ctx.vbox;
  const options: ContractOptions = {
    label: setup.label ?? 'virtualbox',
    image,
    badImage: { id: 'vp-vbox-junk', name: 'junk', diskFormat: 'vdi', path: junk },
    flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 },
    resizeFlavor: { name: 'm1.small', memoryMb: 384, vcpus: 2, rootGb: 2 },
    timeoutMs: setup.timeoutMs ?? (replay ? 30_000 : 300_000),
    evidence: {
      dir: setup.evidenceDir,
      mode: replay ? 'replay' : 'live',
      file: setup.file ?? 'virtualbox',
      backend: async () => {
        const v = await driver.ctx.runner.version();
        const s = driver.ctx.settings.virtualbox;
        return { name: replay ? 'VBoxManage (replay)' : 'VBoxManage', version: v.raw, details: { vrde_module: s.remote_display ? s.vrde_module : '(off)' } };
      },
    },
    leftovers: (instance) => leftovers(driver, instance),
    volumes: {
      file: async () => {
        const path = join(setup.scratchDir, `vol-${randomUUID().slice(0, 8)}.vdi`);
        await vbox.run(['createmedium', 'disk', '--filename', path, '--size', '16', '--format', 'VDI']);
        await vbox.run(['closemedium', 'disk', path]);
        return {
          connectionInfo: { driverVolumeType: 'file', volumeId: `file-${randomUUID().slice(0, 8)}`, data: { path } },
          mountpoint: '/dev/sdb',
          verify: async (instance) => {
            const info = await vbox.showVmInfo(instance.uuid);
            assert.equal(info.attachments.find((a) => a.port === 1)?.location, path, 'the volume is not on SATA port 1');
            // The replay guest writes a record on hot-plugged disks it made; proves the data path end to end.
            if (replay) assert.ok(readFileSync(path).includes(`volume at port 1 of '${instance.name}'`), 'the guest did not see the volume');
          },
          cleanup: async () => rmSync(path, { force: true }),
        };
      },
    },
  };
  if (replay) {
    options.volumes!.iscsiChap = async () => ({
      connectionInfo: {
        driverVolumeType: 'iscsi',
        volumeId: `iscsi-${randomUUID().slice(0, 8)}`,
        data: { targetPortal: '10.99.0.10:3260', targetIqn: 'iqn.2026-11.io.virtplug:vbox', targetLun: 1, authMethod: 'CHAP', authUsername: 'vp-user', authPassword: 'vp-secret' },
      },
      mountpoint: '/dev/sdc',
      verify: async (instance) => {
        // The harness's registry stands in for the target's session table: login with these CHAP credentials.
        const home = setup.harnessHome ?? harnessHomeFor();
        const state = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { vms: Record<string, any>; media: Record<string, any> };
        const medium = Object.values(state.media).find((m) => m.format === 'iSCSI' && m.iscsi?.target === 'iqn.2026-11.io.virtplug:vbox');
        assert.ok(medium, 'no iSCSI medium registered');
        assert.deepEqual(
          { server: medium.iscsi.server, tport: medium.iscsi.tport, lun: medium.iscsi.lun, username: medium.iscsi.username, password: medium.iscsi.password },
          { server: '10.99.0.10', tport: '3260', lun: '1', username: 'vp-user', password: 'vp-secret' },
        );
        assert.equal(state.vms[instance.uuid]?.attachments['SATA-2-0']?.medium, medium.uuid, 'the iSCSI medium is not on SATA port 2');
      },
    });
  }
  return options;
}
