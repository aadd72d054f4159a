import { InvalidArgumentError, UnsupportedOperationError, hasVmStreaming, type LaunchedInstance, type LiveImage, type VmStreaming } from '@virtplug/core';
import type { CliContext } from '../context.js';
import { table } from '../output/printer.js';
import { UsageError } from '../output/errors.js';
import type { VirtplugCommand } from './command.js';

/**
 * Gridcentric VMS verbs (seed 000/001: gc-api and the novaclient extension) on the configured driver's
 * `vms` extension, with cobalt's later names as aliases. Help texts follow seed 001's `nova help <cmd>`.
 */
async function vmsOf(ctx: CliContext): Promise<VmStreaming> {
  const driver = await ctx.driver();
  if (!hasVmStreaming(driver)) throw new UnsupportedOperationError(driver.name, 'VM streaming (bless, launch, discard, gc-migrate)', 'this driver has no vms extension');
  return driver.vms;
}

const liveRow = (b: LiveImage) => ({ uuid: b.uuid, name: b.name, status: b.status, blessedFrom: b.blessedFrom, mode: b.mode, pauseMs: b.pauseMs ?? '' });
const launchedRow = (c: LaunchedInstance) => ({ uuid: c.uuid, name: c.name, status: c.status, launchedFrom: c.launchedFrom });
const plain = <T extends object>(o: T) => JSON.parse(JSON.stringify(o)) as T;

/** seed 001's help texts, for `virtplug help <command>`. */
export const VMS_HELP: Record<string, string> = {
  bless: `usage: virtplug bless [--name <name>] <instance id>

Bless an instance

Positional arguments:
  <instance id>  ID of the instance to bless

Optional arguments:
  --name <name>  Name of the live image (default <instance name>-<n>)
`,
  launch: `usage: virtplug launch [--target <target memory>] [--params <key=value>]
                       [--name <name>] [--count <n>] <blessed id>

Launch a new instance

Positional arguments:
  <blessed id>          ID of the blessed instance

Optional arguments:
  --target <target memory>
                        The memory target of the launched instance
  --params <key=value>  Guest parameters to send to vms-agent
  --name <name>         Name of the launched instance
  --count <n>           How many instances to launch (default 1)
`,
  discard: `usage: virtplug discard <blessed id>

Discard a blessed instance

Positional arguments:
  <blessed id>  ID of the blessed instance
`,
  'gc-migrate': `usage: virtplug gc-migrate <instance id> <destination host>

Migrate an instance using Gridcentric VMS

Positional arguments:
  <instance id>       ID of the instance to migrate
  <destination host>  Host to migrate to
`,
  'list-launched': `usage: virtplug list-launched <blessed id>

List instances launched from this blessed instance.

Positional arguments:
  <blessed id>  ID of the blessed instance
`,
  'list-blessed': `usage: virtplug list-blessed <server id>

List instances blessed from this instance.

Positional arguments:
  <server id>  ID of the instance
`,
};

/** cobalt's names for the same verbs. */
export const VMS_ALIASES: Record<string, string> = {
  'live-image-create': 'bless',
  'live-image-start': 'launch',
  'live-image-delete': 'discard',
  'live-image-list': 'list-blessed',
  'live-image-servers': 'list-launched',
};

const bless: VirtplugCommand<{ instance: string; name?: string }> = {
  command: 'bless <instance>',
  aliases: ['live-image-create'],
  describe: 'Bless an instance (a live image clones launch from)',
  builder: (y) => y.positional('instance', { type: 'string', describe: 'ID of the instance to bless' }).option('name', { type: 'string', describe: 'Name of the live image' }),
  async run(ctx, args) {
    const bar = ctx.progress('bless');
    let b;
    try {
      b = await (await vmsOf(ctx)).bless(args.instance, { ...(args.name ? { name: args.name } : {}), onProgress: (f) => bar.update(f) });
    } finally {
      bar.stop();
    }
    ctx.printer.result(plain(b), () => table([liveRow(b)], ['uuid', 'name', 'status', 'blessedFrom', 'mode', 'pauseMs']));
  },
};

interface LaunchArgs {
  blessed: string;
  target?: string;
  params?: string[];
  name?: string;
  count?: number;
}

const launch: VirtplugCommand<LaunchArgs> = {
  command: 'launch <blessed>',
  aliases: ['live-image-start'],
  describe: 'Launch new instances from a blessed instance',
  builder: (y) =>
    y
      .positional('blessed', { type: 'string', describe: 'ID of the blessed instance' })
      .option('target', { type: 'string', describe: 'The memory target of the launched instance (512mb, 1GB, bytes)' })
      .option('params', { type: 'string', array: true, describe: 'Guest parameters to send to the agent (key=value, repeatable)' })
      .option('name', { type: 'string', describe: 'Name of the launched instance' })
      .option('count', { type: 'number', default: 1, describe: 'How many to launch' }),
  async run(ctx, args) {
    const params: Record<string, string> = {};
    for (const p of args.params ?? []) {
      const i = p.indexOf('=');
      if (i <= 0) throw new InvalidArgumentError('--params', p, 'key=value');
      params[p.slice(0, i)] = p.slice(i + 1);
    }
    const launched = await (await vmsOf(ctx)).launch(args.blessed, {
      params,
      ...(args.target !== undefined ? { target: args.target } : {}),
      ...(args.name ? { name: args.name } : {}),
      ...(args.count !== undefined ? { count: args.count } : {}),
    });
    ctx.printer.result(plain({ launched }), () => table(launched.map(launchedRow), ['uuid', 'name', 'status', 'launchedFrom']));
  },
};

const discard: VirtplugCommand<{ blessed: string }> = {
  command: 'discard <blessed>',
  aliases: ['live-image-delete'],
  describe: 'Discard a blessed instance and all its artifacts',
  builder: (y) => y.positional('blessed', { type: 'string', describe: 'ID of the blessed instance' }),
  async run(ctx, args) {
    await (await vmsOf(ctx)).discard(args.blessed);
    ctx.printer.result({ discarded: args.blessed }, () => `discarded ${args.blessed}`);
  },
};

const listBlessed: VirtplugCommand<{ instance: string }> = {
  command: 'list-blessed <instance>',
  aliases: ['live-image-list'],
  describe: 'List instances blessed from this instance',
  builder: (y) => y.positional('instance', { type: 'string', describe: 'ID of the instance' }),
  async run(ctx, args) {
    const list = await (await vmsOf(ctx)).listBlessed(args.instance);
    ctx.printer.result(plain({ blessed: list }), () => table(list.map(liveRow), ['uuid', 'name', 'status', 'blessedFrom', 'mode']));
  },
};

const listLaunched: VirtplugCommand<{ blessed: string }> = {
  command: 'list-launched <blessed>',
  aliases: ['live-image-servers'],
  describe: 'List instances launched from this blessed instance',
  builder: (y) => y.positional('blessed', { type: 'string', describe: 'ID of the blessed instance' }),
  async run(ctx, args) {
    const list = await (await vmsOf(ctx)).listLaunched(args.blessed);
    ctx.printer.result(plain({ launched: list }), () => table(list.map(launchedRow), ['uuid', 'name', 'status', 'launchedFrom']));
  },
};

const gcMigrate: VirtplugCommand<{ instance: string; host: string }> = {
  command: 'gc-migrate <instance> <host>',
  describe: 'Live-migrate an instance to another libvirt host',
  builder: (y) => y.positional('instance', { type: 'string', describe: 'ID of the instance to migrate' }).positional('host', { type: 'string', describe: 'Host to migrate to' }),
  async run(ctx, args) {
    await (await vmsOf(ctx)).migrate(args.instance, args.host);
    ctx.printer.result({ migrated: args.instance, to: args.host }, () => `migrated ${args.instance} to ${args.host}`);
  },
};

const vmsGc: VirtplugCommand<{ action: string }> = {
  command: 'vms <action>',
  describe: "VM streaming maintenance: 'vms gc' removes what interrupted bless/launch runs left",
  builder: (y) => y.positional('action', { choices: ['gc'] as const, describe: 'gc' }),
  async run(ctx) {
    const report = await (await vmsOf(ctx)).gc();
    ctx.printer.result(report, () =>
      report.removed.length || report.resumed.length
        ? [...report.resumed.map((r) => `resumed ${r}`), ...report.removed.map((r) => `removed ${r}`)].join('\n')
        : 'nothing to clean up',
    );
  },
};

const help: VirtplugCommand<{ topic?: string }> = {
  command: 'help [topic]',
  describe: 'Show how to use a command (VMS commands in the Gridcentric format)',
  builder: (y) => y.positional('topic', { type: 'string', describe: 'Command name' }),
  async run(ctx, args) {
    const topic = args.topic ? (VMS_ALIASES[args.topic] ?? args.topic) : undefined;
    if (!topic) {
      ctx.printer.result({ commands: Object.keys(VMS_HELP) }, () => `VM streaming commands: ${Object.keys(VMS_HELP).join(', ')}\nRun 'virtplug help <command>' for one of them, or 'virtplug --help' for everything.`);
      return;
    }
    const text = VMS_HELP[topic];
    if (!text) throw new UsageError(`no help topic ${JSON.stringify(args.topic)}; run 'virtplug ${args.topic} --help'`);
    ctx.printer.result({ topic, help: text }, () => text);
  },
};

/** Register in commands/index.ts: `...vmsCommands`. */
export const vmsCommands: VirtplugCommand<any>[] = [bless, launch, discard, listBlessed, listLaunched, gcMigrate, vmsGc, help];
