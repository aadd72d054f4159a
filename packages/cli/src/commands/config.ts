import { writeFileSync } from 'node:fs';
import { builtinDriverNames, driverSectionValues, loadDriverModule, readDefaults, readSection } from '@virtplug/core';
import { PACKAGE_SECTIONS } from '../config-sections.js';
import { renderConfigurationDoc } from '../config-doc.js';
import type { VirtplugCommand } from './command.js';

const show: VirtplugCommand = {
  command: 'show',
  describe: 'Print the effective configuration, defaults filled in, secrets hidden',
  async run(ctx) {
    const effective: Record<string, Record<string, unknown>> = { DEFAULT: readDefaults(ctx.config) };
    for (const name of builtinDriverNames()) {
      const m = await loadDriverModule(name).catch(() => undefined);
      if (!m?.config) continue;
      const values = driverSectionValues(m, ctx.config);
      for (const [s, spec] of Object.entries(m.config)) {
        effective[s] = Object.fromEntries(Object.entries(values[s]!).map(([k, v]) => [k, spec[k]?.secret && v ? '***' : v]));
      }
    }
    for (const p of PACKAGE_SECTIONS) {
      const values = readSection(ctx.config, p.section, p.spec);
      effective[p.section] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, p.spec[k]?.secret && v ? '***' : v]));
    }
    ctx.printer.result({ file: ctx.config.file, sections: effective }, () =>
      Object.entries(effective)
        .map(([s, kv]) => `[${s}]\n${Object.entries(kv).map(([k, v]) => `${k} = ${v ?? 'None'}`).join('\n')}`)
        .join('\n\n'),
    );
  },
};

const doc: VirtplugCommand<{ out?: string }> = {
  command: 'doc',
  describe: 'Generate the configuration reference (docs/configuration.md)',
  builder: (y) => y.option('out', { type: 'string', describe: 'Write to this file' }),
  async run(ctx, args) {
    const text = await renderConfigurationDoc();
    if (args.out) writeFileSync(args.out, text + '\n');
    else ctx.printer.result({ markdown: text }, () => text);
  },
};


export const configCommands: VirtplugCommand<any>[] = [
  {
    command: 'config <action>',
    describe: 'Show the effective configuration (show) or generate its reference (doc)',
    builder: (y) =>
      y
        .positional('action', { choices: ['show', 'doc'] as const, describe: 'show | doc' })
        .option('out', { type: 'string', describe: 'doc: write to this file' }),
    async run(ctx, args) {
      await (args.action === 'doc' ? doc : show).run(ctx, args);
    },
  },
];
