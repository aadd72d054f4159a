import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  InvalidArgumentError,
  powerStateName,
  type ConsoleInfo,
  type InstanceRef,
  type VolumeConnectionInfo,
} from '@virtplug/core';
import type { CliContext } from '../context.js';
import { resolveFlavor, resolveImage } from '../images.js';
import { parseNic } from '../nics.js';
import { table } from '../output/printer.js';
import type { VirtplugCommand } from './command.js';

/** The nova-style verbs; the same ones work for any driver that implements them. */

const showInfo = async (ctx: CliContext, ref: InstanceRef) => {
  const info = await (await ctx.driver()).getInfo(ref);
  const data = { ...info, powerState: powerStateName(info.state) };
  ctx.printer.result(data, () =>
    table([{ ...data, memoryMb: info.maxMemKb / 1024 }], ['name', 'uuid', 'powerState', 'vmState', 'memoryMb', 'vcpus']),
  );
};

/** A verb that takes one instance and calls one driver operation on it. */
function simple(verb: string, describe: string, op: (ctx: CliContext, ref: InstanceRef, args: any) => Promise<void>, builder?: VirtplugCommand['builder']): VirtplugCommand<{ instance: string }> {
  return {
    command: `${verb} <instance>`,
    describe,
    builder: (y) => (builder ? builder(y) : y).positional('instance', { type: 'string', describe: 'Instance name or uuid' }),
    async run(ctx, args) {
      const ref = await ctx.instance(args.instance);
      await op(ctx, ref, args);
      ctx.printer.info(`${verb}: ${ref.name} done`);
      await showInfo(ctx, ref);
    },
  };
}

interface BootArgs {
  name: string;
  image: string;
  flavor: string;
  memory?: number;
  vcpus?: number;
  extraSpec?: string[];
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  stopped?: boolean;
  nic?: string[];
}

const boot: VirtplugCommand<BootArgs> = {
  command: 'boot <name>',
  describe: 'Boot a new instance from an image',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Instance name' })
      .option('image', { type: 'string', default: 'guest', describe: "Disk image path, or 'guest' for the project's test guest" })
      .option('flavor', { type: 'string', default: 'm1.tiny', describe: 'm1.tiny, m1.small or m1.medium' })
      .option('memory', { type: 'number', describe: 'Memory in MiB (overrides the flavor)' })
      .option('vcpus', { type: 'number', describe: 'vCPUs (overrides the flavor)' })
      .option('extra-spec', { type: 'string', array: true, describe: 'Flavor extra spec k=v (e.g. io:enabled=1)' })
      .option('kernel', { type: 'string', describe: 'Kernel for direct boot' })
      .option('initrd', { type: 'string', describe: 'Initrd for direct boot' })
      .option('cmdline', { type: 'string', describe: 'Kernel command line' })
      .option('stopped', { type: 'boolean', default: false, describe: 'Define it but do not power it on' })
      .option('nic', { type: 'string', array: true, describe: 'NIC: bridge=NAME[,segment=vlan:ID|vxlan:VNI][,cidr=…][,ip=…][,mac=…] (repeatable)' }),
  async run(ctx, args) {
    const driver = await ctx.driver();
    const image = resolveImage(args.image, { ...(args.kernel ? { kernel: args.kernel } : {}), ...(args.initrd ? { initrd: args.initrd } : {}), ...(args.cmdline ? { cmdline: args.cmdline } : {}) });
    const flavor = resolveFlavor(args.flavor, { ...(args.memory ? { memory: args.memory } : {}), ...(args.vcpus ? { vcpus: args.vcpus } : {}), ...(args.extraSpec ? { extraSpecs: args.extraSpec } : {}) });
    const networkInfo = (args.nic ?? []).map(parseNic);
    const info = await driver.spawn({ uuid: randomUUID(), name: args.name, flavor, ...(networkInfo.length ? { networkInfo } : {}) }, image, { powerOn: !args.stopped });
    ctx.printer.result({ ...info, powerState: powerStateName(info.state) }, () => `booted ${info.name} (${info.uuid}): ${powerStateName(info.state)}`);
  },
};

const list: VirtplugCommand = {
  command: 'list',
  describe: 'List instances with their power state',
  async run(ctx) {
    const driver = await ctx.driver();
    const rows: Array<InstanceRef & { powerState: string; vmState: string }> = [];
    for (const ref of await driver.listInstanceRefs()) {
      const info = await driver.getInfo(ref).catch(() => undefined);
      rows.push({ ...ref, powerState: info ? powerStateName(info.state) : 'unknown', vmState: info?.vmState ?? 'unknown' });
    }
    ctx.printer.result({ instances: rows }, () => table(rows, ['name', 'uuid', 'powerState', 'vmState']));
  },
};

const show: VirtplugCommand<{ instance: string }> = {
  command: 'show <instance>',
  describe: 'Show an instance (Nova: guest instance status)',
  builder: (y) => y.positional('instance', { type: 'string' }),
  async run(ctx, args) {
    await showInfo(ctx, await ctx.instance(args.instance));
  },
};

const del: VirtplugCommand<{ instance: string; keepDisks?: boolean }> = {
  command: 'delete <instance>',
  describe: 'Delete an instance and (unless --keep-disks) its disks',
  builder: (y) => y.positional('instance', { type: 'string' }).option('keep-disks', { type: 'boolean', default: false }),
  async run(ctx, args) {
    const ref = await ctx.instance(args.instance);
    await (await ctx.driver()).destroy(ref, { destroyDisks: !args.keepDisks });
    ctx.printer.result({ deleted: ref }, () => `deleted ${ref.name} (${ref.uuid})`);
  },
};

const snapshot: VirtplugCommand<{ instance: string; imageName: string; out?: string }> = {
  command: 'snapshot <instance> <imageName>',
  describe: 'Save the instance disk as a new bootable image',
  builder: (y) => y.positional('instance', { type: 'string' }).positional('imageName', { type: 'string' }).option('out', { type: 'string', describe: 'Image file to write' }),
  async run(ctx, args) {
    const ref = await ctx.instance(args.instance);
    const bar = ctx.progress('snapshot');
    try {
      const image = await (await ctx.driver()).snapshot(ref, { imageName: args.imageName, ...(args.out ? { path: args.out } : {}), onProgress: (f) => bar.update(f) });
      bar.stop();
      ctx.printer.result(image, () => `image ${image.name}: ${image.path}`);
    } finally {
      bar.stop();
    }
  },
};

interface VolumeArgs {
  instance: string;
  type: 'file' | 'nbd' | 'iscsi';
  volumeId?: string;
  path?: string;
  host?: string;
  port?: number;
  export?: string;
  portal?: string;
  iqn?: string;
  lun?: number;
  chapUser?: string;
  chapPasswordFile?: string;
  device: string;
}

/** Builds Cinder-style connection info from flags; CHAP passwords come from a file, never argv. */
export function connectionInfoFromArgs(a: VolumeArgs): VolumeConnectionInfo {
  const volumeId = a.volumeId ?? randomUUID();
  switch (a.type) {
    case 'file':
      if (!a.path) throw new InvalidArgumentError('--path', a.path, 'the backing file of a file volume');
      return { driverVolumeType: 'file', volumeId, data: { path: a.path } };
    case 'nbd':
      if (!a.host || !a.port) throw new InvalidArgumentError('--host/--port', `${a.host}:${a.port}`, 'the NBD server address');
      return { driverVolumeType: 'nbd', volumeId, data: { host: a.host, port: a.port, ...(a.export ? { exportName: a.export } : {}) } };
    case 'iscsi': {
      if (!a.portal || !a.iqn) throw new InvalidArgumentError('--portal/--iqn', `${a.portal} ${a.iqn}`, 'the iSCSI portal host:port and target IQN');
      const password = a.chapPasswordFile ? readFileSync(a.chapPasswordFile, 'utf8').trim() : undefined;
      return {
        driverVolumeType: 'iscsi',
        volumeId,
        data: {
          targetPortal: a.portal,
          targetIqn: a.iqn,
          targetLun: a.lun ?? 1,
          ...(a.chapUser && password ? { authMethod: 'CHAP' as const, authUsername: a.chapUser, authPassword: password } : {}),
        },
      };
    }
    default:
      throw new InvalidArgumentError('--type', a.type, 'file, nbd or iscsi');
  }
}

const volumeBuilder: VirtplugCommand['builder'] = (y) =>
  y
    .positional('instance', { type: 'string' })
    .option('type', { choices: ['file', 'nbd', 'iscsi'] as const, demandOption: true })
    .option('volume-id', { type: 'string' })
    .option('path', { type: 'string', describe: 'file: backing file' })
    .option('host', { type: 'string', describe: 'nbd: server host' })
    .option('port', { type: 'number', describe: 'nbd: server port' })
    .option('export', { type: 'string', describe: 'nbd: export name' })
    .option('portal', { type: 'string', describe: 'iscsi: host:port' })
    .option('iqn', { type: 'string', describe: 'iscsi: target IQN' })
    .option('lun', { type: 'number', describe: 'iscsi: LUN' })
    .option('chap-user', { type: 'string' })
    .option('chap-password-file', { type: 'string', describe: 'File holding the CHAP secret' })
    .option('device', { type: 'string', default: '/dev/vdb' });

const volumeAttach: VirtplugCommand<VolumeArgs> = {
  command: 'volume-attach <instance>',
  describe: 'Attach a block volume (file, nbd or iscsi with CHAP)',
  builder: volumeBuilder,
  async run(ctx, args) {
    const ref = await ctx.instance(args.instance);
    const ci = connectionInfoFromArgs(args);
    await (await ctx.driver()).attachVolume(ref, ci, args.device);
    ctx.printer.result({ attached: { instance: ref, volumeId: ci.volumeId, device: args.device } }, () => `attached ${ci.volumeId} to ${ref.name} at ${args.device}`);
  },
};

const volumeDetach: VirtplugCommand<VolumeArgs> = {
  command: 'volume-detach <instance>',
  describe: 'Detach a block volume',
  builder: volumeBuilder,
  async run(ctx, args) {
    const ref = await ctx.instance(args.instance);
    const ci = connectionInfoFromArgs(args);
    await (await ctx.driver()).detachVolume(ref, ci, args.device);
    ctx.printer.result({ detached: { instance: ref, volumeId: ci.volumeId, device: args.device } }, () => `detached ${args.device} from ${ref.name}`);
  },
};

const consoleCmd: VirtplugCommand<{ instance: string; type: 'vnc' | 'rdp' | 'spice' | 'serial' }> = {
  command: 'console <instance>',
  describe: 'Show how to reach an instance console, or print its serial log',
  builder: (y) => y.positional('instance', { type: 'string' }).option('type', { choices: ['vnc', 'rdp', 'spice', 'serial'] as const, default: 'serial' as const }),
  async run(ctx, args) {
    const driver = await ctx.driver();
    const ref = await ctx.instance(args.instance);
    if (args.type === 'serial') {
      const log = await driver.getConsoleOutput(ref);
      ctx.printer.result({ type: 'serial', output: log }, () => log);
      return;
    }
    const c: ConsoleInfo =
      args.type === 'vnc' ? await driver.getVncConsole(ref) : args.type === 'rdp' ? await driver.getRdpConsole(ref) : await driver.getSpiceConsole(ref);
    ctx.printer.result(c, () => `${c.type}://${c.host}:${c.port}${c.password ? ' (password set; see --json)' : ''}`);
  },
};

export const instanceCommands: VirtplugCommand<any>[] = [
  boot,
  list,
  show,
  del,
  simple('stop', 'Power off (graceful first, then hard)', async (ctx, ref, a) => (await ctx.driver()).powerOff(ref, { timeoutSec: a.timeout, retryIntervalSec: 5 }), (y) =>
    y.option('timeout', { type: 'number', default: 30, describe: 'Seconds to wait for a graceful shutdown' }),
  ),
  simple('start', 'Power on', async (ctx, ref) => (await ctx.driver()).powerOn(ref)),
  simple('reboot', 'Reboot (soft unless --hard)', async (ctx, ref, a) => (await ctx.driver()).reboot(ref, a.hard ? 'HARD' : 'SOFT'), (y) =>
    y.option('hard', { type: 'boolean', default: false }),
  ),
  simple('pause', 'Stop instance CPUs', async (ctx, ref) => (await ctx.driver()).pause(ref)),
  simple('unpause', 'Resume instance CPUs', async (ctx, ref) => (await ctx.driver()).unpause(ref)),
  simple('suspend', 'Suspend to disk', async (ctx, ref) => (await ctx.driver()).suspend(ref)),
  simple('resume', 'Resume from suspension', async (ctx, ref) => (await ctx.driver()).resume(ref)),
  snapshot,
  volumeAttach,
  volumeDetach,
  consoleCmd,
];
