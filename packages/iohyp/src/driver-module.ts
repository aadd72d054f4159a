import {
  CONFIG,
  DRIVER_CONFIG,
  LOGGER,
  STATE_PATH,
  fromInline,
  loadDriver,
  loadDriverModule,
  readDefaults,
  rootLogger,
  type ComputeDriver,
  type DriverModule,
  type InlineConfig,
  type ProbeResult,
  type VirtplugConfig,
} from '@virtplug/core';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import { agentClients, type IoHypAgentApi } from './agent/client.js';
import { IOHYP_CAPABILITIES } from './capabilities.js';
import { IOHYP_SECTION, readIoHypSection, routerSettings, type IoHypSection } from './config.js';
import { IoHypRouter } from './router.js';
import type { FaultHook } from './routes/context.js';
import { readTokenFile } from './util/token.js';

export interface WrapOptions {
  logger?: Logger;
  /** Default: DEFAULT.state_path of the config. */
  statePath?: string;
  /** Replace the HTTP clients (tests, co-located agents). */
  agents?: ReadonlyMap<string, IoHypAgentApi>;
  faults?: FaultHook;
}

/**
 * The programmatic way in: wrap a driver you already have. `[iohyp]` of `config` supplies agents,
 * token file, addresses and state dir.
 */
export function wrapWithIoHyp(driver: ComputeDriver, config: VirtplugConfig | InlineConfig, options: WrapOptions = {}): IoHypRouter {
  const cfg = isLoaded(config) ? config : fromInline(config);
  const section = readIoHypSection(cfg);
  return build(driver, cfg, section, options.statePath ?? readDefaults(cfg).state_path, options.logger ?? rootLogger(readDefaults(cfg).log_level), options);
}

function build(driver: ComputeDriver, cfg: VirtplugConfig, section: IoHypSection, statePath: string, logger: Logger, options: WrapOptions): IoHypRouter {
  const settings = routerSettings(cfg.file, section, statePath);
  let agents = options.agents;
  if (!agents) {
    const token = settings.agents.length > 0 ? readTokenFile(settings.tokenFile) : '';
    agents = agentClients(settings, token, { logger });
  }
  return new IoHypRouter(driver, { settings, agents, logger: logger.child({ component: 'iohyp' }), ...(options.faults ? { faults: options.faults } : {}) });
}

/**
 * As a driver module: `compute_driver = @virtplug/iohyp` with `[iohyp] wrap = libvirt` loads the wrapped
 * driver from the same config and returns the router around it.
 */
export const driverModule: DriverModule<IoHypRouter> = {
  name: 'iohyp',
  title: 'I/O hypervisor volume routing (wraps another driver)',
  aliases: ['iohyp.IoHypRouter'],
  capabilities: IOHYP_CAPABILITIES,
  config: { iohyp: IOHYP_SECTION },
  /** Usable when the wrapped driver is and at least one configured agent answers with the shared token. */
  async probe(config: VirtplugConfig): Promise<ProbeResult> {
    const section = readIoHypSection(config);
    const settings = routerSettings(config.file, section, readDefaults(config).state_path);
    if (settings.agents.length === 0) return { usable: false, reason: 'no IOhyp agents configured; set [iohyp] agents = name=http://host:port' };
    let token: string;
    try {
      token = readTokenFile(settings.tokenFile);
    } catch (e) {
      return { usable: false, reason: (e as Error).message };
    }
    const answers = await Promise.all(
      [...agentClients(settings, token, { timeoutMs: 5000 }).values()].map((a) => a.status().then(() => `${a.name}: ok`, (e: unknown) => `${a.name}: ${(e as Error).message}`)),
    );
    const reachable = answers.filter((x) => x.endsWith(': ok')).length;
    const inner = await loadDriverModule(section.wrap).then((m) => (m.probe ? m.probe(config) : { usable: true, reason: 'no probe' }), (e: unknown) => ({ usable: false, reason: (e as Error).message }));
    return {
      usable: reachable > 0 && inner.usable,
      reason: `wraps ${section.wrap} (${inner.usable ? 'usable' : `not usable: ${inner.reason}`}); agents ${reachable}/${answers.length} reachable (${answers.join('; ')})`,
    };
  },
  async create(container: DependencyContainer) {
    const cfg = container.resolve(CONFIG);
    const section = container.resolve(DRIVER_CONFIG).iohyp as IoHypSection;
    const logger = container.resolve(LOGGER);
    if (section.wrap === 'iohyp' || section.wrap === '@virtplug/iohyp') {
      throw new Error('[iohyp] wrap must name another driver (libvirt, fake, ...), not iohyp itself');
    }
    const inner = await loadDriver(cfg, { driver: section.wrap, container, logger, init: false });
    return build(inner, cfg, section, container.resolve(STATE_PATH), logger, {});
  },
};

function isLoaded(x: unknown): x is VirtplugConfig {
  return !!x && typeof (x as VirtplugConfig).file === 'string' && typeof (x as VirtplugConfig).sections === 'object';
}
