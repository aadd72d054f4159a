import { InvalidArgumentError, loadConfigFile, loadDriver, readDefaults, type VirtplugConfig } from '@virtplug/core';
import {
  agentClients,
  IoHypRouter,
  LAB_FACTS,
  RouteStore,
  readIoHypSection,
  readTokenFile,
  routerSettings,
  runIoHypSmoke,
  smokeTargetFromLab,
  type RouteRecord,
} from '@virtplug/iohyp';
import type { CliContext } from '../context.js';
import { table } from '../output/printer.js';
import type { VirtplugCommand } from './command.js';

/**
 * `virtplug iohyp <action>`: the I/O-hypervisor router's records and agents. Volume attach/detach need
 * no command of their own: with `compute_driver = @virtplug/iohyp` (`[iohyp] wrap = libvirt`),
 * `virtplug volume-attach` routes io:enabled=1 instances transparently.
 */
const ACTIONS = ['routes', 'agents', 'gc', 'smoke'] as const;
type Action = (typeof ACTIONS)[number];

interface IoHypArgs {
  action: Action;
  lab?: string;
  orphans?: boolean;
}

function settingsOf(config: VirtplugConfig) {
  return routerSettings(config.file, readIoHypSection(config), readDefaults(config).state_path);
}

function routeRow(r: RouteRecord) {
  return {
    attachment: r.attachmentId.slice(0, 8),
    volume: r.volumeId,
    instance: r.instance.name,
    iohyp: r.iohypHost,
    segment: `${r.segment.type}:${r.segment.id}`,
    export: r.export ? `nbd://${r.export.host}:${r.export.port}/${r.export.name}` : '',
    device: r.device,
    state: r.state + (r.error ? ` (${r.error.step})` : ''),
  };
}

async function routerOf(ctx: CliContext): Promise<IoHypRouter> {
  const driver = await ctx.driver();
  if (!(driver instanceof IoHypRouter)) {
    throw new InvalidArgumentError('compute_driver', driver.name, '@virtplug/iohyp (with [iohyp] wrap = <driver>) for this command');
  }
  return driver;
}

/** `virtplug smoke iohyp` / `virtplug iohyp smoke`: the lab scenario against the running lab. */
export async function runIoHypSmokeCommand(ctx: CliContext, labFile = LAB_FACTS): Promise<void> {
  const target = smokeTargetFromLab(labFile);
  const config = ctx.args.config ? ctx.config : loadConfigFile(target.config);
  const driver = await loadDriver(config, { logger: ctx.logger() });
  ctx.onExit(() => driver.close());
  if (!(driver instanceof IoHypRouter)) throw new InvalidArgumentError('compute_driver', driver.name, '@virtplug/iohyp');
  const report = await runIoHypSmoke(driver, target, (s) => ctx.printer.info(`${s.ok ? 'PASS' : 'FAIL'} ${s.name} (${s.ms} ms)${s.detail ? `: ${s.detail}` : ''}`));
  ctx.printer.result(report, () => (report.ok ? 'iohyp smoke: passed' : 'iohyp smoke: FAILED'));
  if (!report.ok) process.exitCode = 1;
}

async function run(ctx: CliContext, a: IoHypArgs): Promise<void> {
  switch (a.action) {
    case 'routes': {
      const routes = new RouteStore(settingsOf(ctx.config).stateDir).list();
      return ctx.printer.result({ routes }, () => table(routes.map(routeRow), ['attachment', 'volume', 'instance', 'iohyp', 'segment', 'export', 'device', 'state']));
    }
    case 'agents': {
      const s = settingsOf(ctx.config);
      const token = s.agents.length ? readTokenFile(s.tokenFile) : '';
      const rows: Array<Record<string, unknown>> = [];
      const clients = agentClients(s, token, { timeoutMs: 10_000 });
      for (const agent of s.agents) {
        try {
          const st = await clients.get(agent.name)!.status();
          const segs = st.segmentBackends.map((b) => `${b.name}:${b.usable ? 'ok' : 'no'}`).join(' ');
          rows.push({ name: agent.name, url: agent.url, reachable: 'yes', exports: st.exports.length, ports: st.ports.length, backends: st.backends.length, segments: segs, status: st });
        } catch (e) {
          rows.push({ name: agent.name, url: agent.url, reachable: 'no', exports: '', ports: '', backends: '', segments: (e as Error).message });
        }
      }
      return ctx.printer.result({ agents: rows }, () => table(rows, ['name', 'url', 'reachable', 'exports', 'ports', 'backends', 'segments']));
    }
    case 'gc': {
      const report = await (await routerOf(ctx)).gc({ agentOrphans: a.orphans !== false });
      return ctx.printer.result(report, () =>
        [
          `routes finished: ${report.routes.map((r) => `${r.attachmentId.slice(0, 8)} (${r.reason}${r.failed.length ? `; failed: ${r.failed.join('; ')}` : ''})`).join(', ') || 'none'}`,
          `agent leftovers: ${report.orphans.map((o) => `${o.agent} ${o.kind} ${o.id}${o.removed ? '' : ` NOT removed: ${o.error}`}`).join(', ') || 'none'}`,
        ].join('\n'),
      );
    }
    case 'smoke':
      return runIoHypSmokeCommand(ctx, a.lab);
  }
}

export const iohypCommands: VirtplugCommand<any>[] = [
  {
    command: 'iohyp <action>',
    describe: 'I/O hypervisor: route records, agents, garbage collection, the lab smoke scenario',
    builder: (y) =>
      y
        .positional('action', { choices: ACTIONS, describe: 'routes | agents | gc | smoke' })
        .option('lab', { type: 'string', describe: `smoke: the lab's facts file (default ${LAB_FACTS})` })
        .option('orphans', { type: 'boolean', default: true, describe: 'gc: also remove agent-side exports/ports/backends no record names' })
        .epilogue(
          [
            '  virtplug iohyp routes            route records (attachment, volume, IOhyp, segment, export, state)',
            '  virtplug iohyp agents            reachability and segment backends of each [iohyp] agent',
            '  virtplug iohyp gc                finish interrupted routes, remove leftovers (compute_driver = @virtplug/iohyp)',
            '  virtplug iohyp smoke [--lab F]   the lab scenario (bash tools/lab/iohyp.sh up first)',
          ].join('\n'),
        ),
    run: (ctx, args) => run(ctx, args as unknown as IoHypArgs),
  },
];
