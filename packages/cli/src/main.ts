import 'reflect-metadata';
import yargs from 'yargs';
import { CliContext, type GlobalArgs } from './context.js';
import { commands } from './commands/index.js';
import { toYargs } from './commands/command.js';
import { exitCodeFor, formatError, UsageError } from './output/errors.js';
import { EXIT_OK, EXIT_USAGE } from './output/exit-codes.js';

/** Runs one CLI invocation and returns its exit code (0 ok, 1 operation failed, 2 usage or config). */
export async function run(argv: string[], make: (a: GlobalArgs) => CliContext = (a) => new CliContext(a)): Promise<number> {
  let ctx: CliContext | undefined;
  let usageError: string | undefined;
  const parser = yargs(argv)
    .scriptName('virtplug')
    .usage('$0 <command> [options]\n\nPluggable hypervisor drivers: Nova-style operations, VM streaming, cloudlets.')
    .option('config', { alias: 'c', type: 'string', describe: 'nova.conf-style INI or JSON config file', global: true })
    .option('driver', { alias: 'd', type: 'string', describe: 'Driver name (overrides [DEFAULT] compute_driver)', global: true })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output', global: true })
    .option('log-level', { type: 'string', choices: ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'], describe: 'Log level (debug shows stacks)', global: true })
    .strict()
    .demandCommand(1, 'Name a command; see virtplug --help')
    .recommendCommands()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      usageError = msg;
    })
    .epilogue('Exit codes: 0 ok, 1 operation failed, 2 usage or configuration error.');
  for (const c of commands) parser.command(toYargs(c, make, (c2) => (ctx = c2)));
  try {
    await parser.parseAsync();
    if (usageError) {
      process.stderr.write(`virtplug: error: ${usageError}\n`);
      return EXIT_USAGE;
    }
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    const debug = ctx?.debug ?? argv.includes('debug');
    process.stderr.write(formatError(e, debug) + '\n');
    return e instanceof UsageError ? EXIT_USAGE : exitCodeFor(e);
  } finally {
    await ctx?.close();
  }
}
