import { builtinDriverNames, loadDriverModule, type ProbeResult } from '@virtplug/core';
import { table } from '../output/printer.js';
import type { VirtplugCommand } from './command.js';

export const driversCommand: VirtplugCommand = {
  command: 'drivers',
  describe: 'List the registered drivers and whether each is usable here (a probe)',
  async run(ctx) {
    const wanted = ctx.args.driver ? [ctx.args.driver] : builtinDriverNames();
    const rows: Array<{ name: string; title: string; usable: boolean; reason: string; version?: string }> = [];
    for (const name of wanted) {
      let module;
      try {
        module = await loadDriverModule(name);
      } catch (e) {
        // A name the user asked for must exist; a built-in whose package won't load is just not usable.
        if (ctx.args.driver) throw e;
        rows.push({ name, title: name, usable: false, reason: `cannot load: ${(e as Error).message}` });
        continue;
      }
      let probe: ProbeResult;
      try {
        probe = module.probe ? await module.probe(ctx.config) : { usable: true, reason: 'no probe' };
      } catch (e) {
        probe = { usable: false, reason: (e as Error).message };
      }
      rows.push({
        name: module.name,
        title: module.title,
        usable: probe.usable,
        reason: probe.reason,
        ...(probe.backendVersion ? { version: probe.backendVersion } : {}),
      });
    }
    ctx.printer.result({ drivers: rows }, () =>
      table(rows.map((r) => ({ ...r, usable: r.usable ? 'yes' : 'no' })), ['name', 'usable', 'version', 'reason']),
    );
  },
};
