import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import type { CliContext, GlobalArgs } from '../context.js';

/**
 * A virtplug command: a yargs command whose handler receives the CLI context. Packages add theirs as
 * modules exporting `VirtplugCommand[]`; src/commands/index.ts lists them.
 */
export interface VirtplugCommand<A = Record<string, unknown>> {
  command: string | readonly string[];
  describe: string;
  aliases?: readonly string[];
  builder?: (y: Argv<GlobalArgs>) => Argv<any>;
  run(ctx: CliContext, args: ArgumentsCamelCase<A & GlobalArgs>): Promise<void>;
}

export function toYargs(cmd: VirtplugCommand<any>, makeContext: (args: GlobalArgs) => CliContext, setContext: (c: CliContext) => void): CommandModule<GlobalArgs, any> {
  return {
    command: cmd.command as string | readonly string[],
    describe: cmd.describe,
    ...(cmd.aliases ? { aliases: cmd.aliases } : {}),
    builder: (y: Argv<GlobalArgs>) => (cmd.builder ? cmd.builder(y) : y),
    handler: async (args: ArgumentsCamelCase<any>) => {
      const ctx = makeContext(args as GlobalArgs);
      setContext(ctx);
      await ctx.prepare();
      await cmd.run(ctx, args);
    },
  };
}
