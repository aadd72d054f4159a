import { loadDriverModule, runDriverContract } from '@virtplug/core';
import type { VirtplugCommand } from './command.js';
import { UsageError } from '../output/errors.js';
import { runIoHypSmokeCommand } from './iohyp.js';

/** Runs the core contract kit against the configured backend of one driver and writes evidence. */
export const smokeCommand: VirtplugCommand<{ name: string }> = {
  command: 'smoke <name>',
  describe: 'Run the driver contract against the configured backend and write evidence',
  builder: (y) => y.positional('name', { type: 'string', describe: 'Driver name' }),
  async run(ctx, args) {
    // The I/O hypervisor's smoke is its lab scenario (a real chain), not the compute contract.
    if (args.name === 'iohyp') return runIoHypSmokeCommand(ctx);
    const module = await loadDriverModule(args.name);
    if (!module.smoke) throw new UsageError(`driver ${module.name} has no smoke setup`);
    const driver = await ctx.driver(module.name);
    const options = await module.smoke(driver, { evidenceDir: ctx.evidenceDir(), config: ctx.config });
    const { outcomes, evidencePath } = await runDriverContract(driver, options, (o) =>
      ctx.printer.info(`${o.result === 'pass' ? 'PASS' : o.result === 'skip' ? 'SKIP' : 'FAIL'} ${o.name} (${o.ms} ms)${o.error ? `: ${o.error}` : ''}`),
    );
    const count = (r: string) => outcomes.filter((o) => o.result === r).length;
    ctx.printer.result({ driver: module.name, outcomes, evidence: evidencePath }, () =>
      `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped\nevidence: ${evidencePath}`,
    );
    if (count('fail') > 0) process.exitCode = 1;
  },
};
