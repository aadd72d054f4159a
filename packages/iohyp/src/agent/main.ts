import { ExecaProcessRunner, loadConfigFile, readDefaults, readServerTls, rootLogger } from '@virtplug/core';
import { readIoHypSection } from '../config.js';
import { readTokenFile } from '../util/token.js';
import { buildAgentService } from './build.js';
import { createAgentServer } from './server.js';

const USAGE = 'usage: virtplug-iohyp-agent --config FILE   (the [iohyp] section: listen, token_file, tls_cert_file, tls_key_file, agent_state_dir, ...)';

/**
 * virtplug-iohyp-agent: serves the allow-listed IOhyp operations on [iohyp] listen. Exports are separate
 * daemons, so stopping or restarting the agent leaves running exports alone; its state file lets the
 * next start pick them up again.
 */
export async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--config');
  const configPath = i >= 0 ? argv[i + 1] : undefined;
  if (!configPath || argv.includes('--help')) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = configPath ? 0 : 2;
    return;
  }
  const config = loadConfigFile(configPath);
  const defaults = readDefaults(config);
  const section = readIoHypSection(config);
  const logger = rootLogger(defaults.log_level === 'warn' ? 'info' : defaults.log_level).child({ component: 'iohyp-agent', agent: section.agent_name });
  const token = readTokenFile(section.token_file);
  const service = buildAgentService(config.file, section, defaults.state_path, new ExecaProcessRunner(), logger);
  const m = /^(.+):(\d{1,5})$/.exec(section.listen);
  if (!m) throw new Error(`[iohyp] listen = ${JSON.stringify(section.listen)} is invalid; expected host:port`);
  const tls = readServerTls('iohyp', section.tls_cert_file, section.tls_key_file);
  const server = createAgentServer(service, token, logger, tls);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1], () => resolve());
  });
  logger.info({ listen: section.listen, tls: tls !== undefined, segmentBackends: await service.status().then((s) => s.segmentBackends) }, 'listening');
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
