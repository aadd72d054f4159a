import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InvalidArgumentError, type ComputeDriver } from '@virtplug/core';
import { chunkTotals, Cloudlet, cloudletSettings, redactUrl, type OverlayStats } from '@virtplug/cloudlet';
import type { CliContext } from '../context.js';
import { table } from '../output/printer.js';
import type { VirtplugCommand } from './command.js';

/**
 * `virtplug cloudlet <action>`: elijah-openstack's cloudlet client verbs on @virtplug/cloudlet.
 * Tokens come from files (--token-file or the [cloudlet] *_token_file options) or the
 * VIRTPLUG_CLOUDLET_TOKEN environment variable, never from argv, so they stay out of `ps`.
 */
const ACTIONS = [
  'import-base',
  'export-base',
  'create-base',
  'list-bases',
  'resume-base',
  'create-overlay',
  'info-overlay',
  'download',
  'serve',
  'synthesis',
  'handoff',
  'handoff-recv',
  'cleanup',
] as const;
type Action = (typeof ACTIONS)[number];

interface CloudletArgs {
  action: Action;
  args?: string[];
  name?: string;
  out?: string;
  base?: string;
  to?: string;
  dir?: string;
  host?: string;
  port?: number;
  tokenFile?: string;
  compression?: 'zstd' | 'xz';
}

const USAGE: Record<Action, [string, number]> = {
  'import-base': ['import-base <package>', 1],
  'export-base': ['export-base <base-id> [--out FILE]', 1],
  'create-base': ['create-base <instance> --name NAME', 1],
  'list-bases': ['list-bases', 0],
  'resume-base': ['resume-base <base-id> [--name NAME]', 1],
  'create-overlay': ['create-overlay <instance> [--out FILE] [--base ID] [--compression zstd|xz]', 1],
  'info-overlay': ['info-overlay <overlay-file|url> [--token-file F]', 1],
  download: ['download <url> [--out FILE] [--token-file F]', 1],
  serve: ['serve [--dir DIR] [--host H] [--port P] [--token-file F]', 0],
  synthesis: ['synthesis <overlay-url|file> [--name NAME] [--base ID] [--token-file F]', 1],
  handoff: ['handoff <instance> --to URL [--name NAME] [--token-file F]', 1],
  'handoff-recv': ['handoff-recv [--host H] [--port P] [--token-file F]', 0],
  cleanup: ['cleanup', 0],
};

function positionals(a: CloudletArgs): string[] {
  const [usage, n] = USAGE[a.action];
  const got = (a.args ?? []).map(String);
  if (got.length !== n) throw new InvalidArgumentError(`arguments of 'cloudlet ${a.action}'`, got, `virtplug cloudlet ${usage}`);
  return got;
}

function readToken(file: string | null | undefined, what: string): string {
  if (file) {
    const t = readFileSync(file, 'utf8').trim();
    if (!t) throw new InvalidArgumentError(`${what} token file`, file, 'a file holding the token');
    return t;
  }
  const env = process.env.VIRTPLUG_CLOUDLET_TOKEN?.trim();
  if (env) return env;
  throw new InvalidArgumentError(`${what} token`, '(none)', `--token-file FILE, [cloudlet] ${what}_token_file, or VIRTPLUG_CLOUDLET_TOKEN`);
}

async function cloudletFor(ctx: CliContext, needsDriver: boolean): Promise<Cloudlet> {
  const driver: ComputeDriver | null = needsDriver ? await ctx.driver() : null;
  const c = new Cloudlet(driver, cloudletSettings(ctx.config));
  ctx.onExit(() => c.close());
  return c;
}

function statsLine(s: OverlayStats): string {
  return `memory ${s.memory_chunks} + disk ${s.disk_chunks} changed chunks: zero ${s.zero}, base-mem ${s.base_mem}, base-disk ${s.base_disk}, self ${s.self}, xor ${s.xor}, raw ${s.raw}`;
}

function waitForSignal(): Promise<void> {
  return new Promise((ok) => {
    process.once('SIGINT', () => ok());
    process.once('SIGTERM', () => ok());
  });
}

const NEEDS_DRIVER: ReadonlySet<Action> = new Set(['create-base', 'resume-base', 'create-overlay', 'synthesis', 'handoff', 'handoff-recv', 'cleanup']);

async function run(ctx: CliContext, a: CloudletArgs): Promise<void> {
  const p = positionals(a);
  const c = await cloudletFor(ctx, NEEDS_DRIVER.has(a.action));
  const s = c.settings;
  const out = ctx.printer;
  switch (a.action) {
    case 'import-base': {
      const bar = ctx.progress('import-base');
      const b = await c.importBase(resolve(p[0]!)).finally(() => bar.stop());
      return out.result({ base: b.manifest }, () => `imported base ${b.manifest.name}: ${b.id}`);
    }
    case 'export-base': {
      const b = await c.getBase(p[0]!);
      const dest = resolve(a.out ?? `base-${b.manifest.name}-${b.id.slice(0, 12)}.tar`);
      const r = await c.exportBase(b.id, dest);
      return out.result({ id: b.id, ...r }, () => `exported base ${b.id} to ${r.path} (${r.bytes} bytes)`);
    }
    case 'create-base': {
      if (!a.name) throw new InvalidArgumentError('--name', a.name, 'a name for the new base');
      const b = await c.createBase(await ctx.instance(p[0]!), a.name);
      return out.result({ base: b.manifest }, () => `created base ${a.name}: ${b.id}`);
    }
    case 'list-bases': {
      const rows = (await c.listBases()).map((b) => ({ id: b.id, name: b.manifest.name, memoryMiB: b.manifest.memory.bytes >> 20, diskMiB: b.manifest.disk.bytes >> 20, machine: b.manifest.machine.machineType }));
      return out.result({ bases: rows }, () => table(rows, ['id', 'name', 'memoryMiB', 'diskMiB', 'machine']));
    }
    case 'resume-base': {
      const ref = await c.resumeBase(p[0]!, a.name ? { name: a.name } : {});
      return out.result({ instance: ref }, () => `resumed base as ${ref.name} (${ref.uuid})`);
    }
    case 'create-overlay': {
      const ref = await ctx.instance(p[0]!);
      const dest = resolve(a.out ?? `overlay-${ref.name}.vpo`);
      const bar = ctx.progress('create-overlay');
      const r = await c
        .createOverlay(ref, { dest, ...(a.base ? { baseId: a.base } : {}), ...(a.compression ? { compression: a.compression } : {}), onProgress: (x) => bar.update(x.done / Math.max(1, x.total), x.phase) })
        .finally(() => bar.stop());
      return out.result({ path: r.path, bytes: r.bytes, base_id: r.manifest.base_id, stats: r.manifest.stats, capture_ms: Math.round(r.captureMs), create_ms: Math.round(r.ms) }, () =>
        [`overlay ${r.path}: ${r.bytes} bytes for base ${r.manifest.base_id}`, statsLine(r.manifest.stats), `capture ${Math.round(r.captureMs)} ms, diff+compress ${Math.round(r.ms)} ms`].join('\n'),
      );
    }
    case 'info-overlay': {
      const isUrl = /^https?:/i.test(p[0]!);
      const h = await c.infoOverlay(isUrl ? p[0]! : resolve(p[0]!), isUrl && !/[?&]token=/.test(p[0]!) ? { token: readToken(a.tokenFile ?? s.serve_token_file, 'serve') } : {});
      const m = h.manifest;
      const totals = chunkTotals(m);
      const info = { base_id: m.base_id, kind: m.kind, version: m.version, bytes: h.totalBytes, file_bytes: h.fileBytes, blobs: m.blobs.length, memory_chunks: totals.memory, disk_chunks: totals.disk, memory_bytes: m.memory_bytes, disk_bytes: m.disk_bytes, compression: m.compression, machine: m.machine, overlay_sha256: m.overlay_sha256, stats: m.stats };
      return out.result(info, () =>
        [`${basename(p[0]!)}: ${m.kind} v${m.version}, ${h.totalBytes} bytes, ${m.blobs.length} blobs (${m.compression})`, `base ${m.base_id}`, `chunks: memory ${totals.memory}, disk ${totals.disk}`, statsLine(m.stats)].join('\n'),
      );
    }
    case 'download': {
      const token = readToken(a.tokenFile ?? s.serve_token_file, 'serve');
      const dest = resolve(a.out ?? basename(new URL(p[0]!).pathname) ?? 'overlay.vpo');
      const bar = ctx.progress('download');
      const r = await c.download(p[0]!, dest, { token, onProgress: (x) => bar.update(x.done / Math.max(1, x.total)) }).finally(() => bar.stop());
      return out.result({ path: r.path, bytes: r.bytes, resumed_from: r.resumedFrom, base_id: r.header.manifest.base_id }, () => `downloaded ${redactUrl(p[0]!)} to ${r.path} (${r.bytes} bytes${r.resumedFrom ? `, resumed at ${r.resumedFrom}` : ''}; verified)`);
    }
    case 'serve': {
      const token = readToken(a.tokenFile ?? s.serve_token_file, 'serve');
      const srv = await c.serve({ dir: resolve(a.dir ?? '.'), token, host: a.host ?? s.serve_host, port: a.port ?? s.serve_port, onRequest: (r) => out.info(`${r.method} ${r.path} ${r.status} ${r.bytes}`) });
      out.result({ url: srv.url, dir: resolve(a.dir ?? '.') }, () => `serving ${resolve(a.dir ?? '.')} at ${srv.url} (Ctrl-C stops)`);
      await waitForSignal();
      return srv.close();
    }
    case 'synthesis': {
      const src = p[0]!;
      const token = /^https?:/i.test(src) && !/[?&]token=/.test(src) ? readToken(a.tokenFile ?? s.serve_token_file, 'serve') : undefined;
      const bar = ctx.progress('synthesis');
      const r = await c
        .synthesize({ source: /^https?:/i.test(src) ? src : resolve(src), ...(token ? { token } : {}), ...(a.name ? { name: a.name } : {}), ...(a.base ? { baseId: a.base } : {}), onProgress: (x) => bar.update(x.done / Math.max(1, x.total), x.phase) })
        .finally(() => bar.stop());
      return out.result({ instance: r.instance, base_id: r.manifest.base_id, timings: r.timings }, () => `synthesized ${r.instance.name} (${r.instance.uuid}) in ${Math.round(r.timings.total_ms)} ms`);
    }
    case 'handoff': {
      if (!a.to) throw new InvalidArgumentError('--to', a.to, 'the destination handoff-recv URL, e.g. http://10.77.0.2:8022');
      const token = readToken(a.tokenFile ?? s.handoff_token_file, 'handoff');
      const ref = await ctx.instance(p[0]!);
      const bar = ctx.progress('handoff');
      const phases = ['check', 'precopy', 'capture', 'pause', 'residue', 'transfer', 'destroy'];
      const r = await c.handoff(ref, { url: a.to, token, ...(a.name ? { name: a.name } : {}), onProgress: (x) => bar.update((phases.indexOf(x.phase) + 1) / phases.length, x.phase) }).finally(() => bar.stop());
      return out.result(r, () => `handed ${ref.name} off to ${redactUrl(a.to!)} as ${r.destination.instance.name}: ${r.precopy_bytes} bytes before the pause, ${r.residue_bytes} after; downtime ${Math.round(r.timings.downtime_ms)} ms`);
    }
    case 'handoff-recv': {
      const token = readToken(a.tokenFile ?? s.handoff_token_file, 'handoff');
      const rcv = await c.handoffReceiver({ token, host: a.host ?? s.handoff_host, port: a.port ?? s.handoff_port, onEvent: (e) => out.info(JSON.stringify(e)) });
      out.result({ url: rcv.url }, () => `receiving handoffs at ${rcv.url} (Ctrl-C stops)`);
      await waitForSignal();
      return rcv.close();
    }
    case 'cleanup': {
      const r = await c.cleanup();
      return out.result(r, () => `removed ${r.removedWorkDirs} work dirs and ${r.removedInstanceDirs} instance dirs; destroyed ${r.destroyedInstances.join(', ') || 'nothing'}`);
    }
  }
}

export const cloudletCommands: VirtplugCommand<any>[] = [
  {
    command: 'cloudlet <action> [args..]',
    describe: 'Cloudlets (OpenStack++): bases, overlays, synthesis, serving, handoff',
    builder: (y) =>
      y
        .positional('action', { choices: ACTIONS, describe: ACTIONS.join(' | ') })
        .positional('args', { type: 'string', array: true, describe: 'see the usage of each action' })
        .option('name', { type: 'string', describe: 'create-base/resume-base/synthesis/handoff: instance or base name' })
        .option('out', { type: 'string', describe: 'export-base/create-overlay/download: output file' })
        .option('base', { type: 'string', describe: 'create-overlay/synthesis: base id (or unique prefix)' })
        .option('to', { type: 'string', describe: 'handoff: destination receiver URL' })
        .option('dir', { type: 'string', describe: 'serve: directory of overlay files' })
        .option('host', { type: 'string', describe: 'serve/handoff-recv: listen address' })
        .option('port', { type: 'number', describe: 'serve/handoff-recv: listen port' })
        .option('token-file', { type: 'string', describe: 'file holding the serve/handoff token' })
        .option('compression', { choices: ['zstd', 'xz'] as const, describe: 'create-overlay: compressor' })
        .epilogue(Object.values(USAGE).map(([u]) => `  virtplug cloudlet ${u}`).join('\n')),
    run: (ctx, args) => run(ctx, args as unknown as CloudletArgs),
  },
];
