import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { pino, type Logger } from 'pino';
import { emptyConfig, fromInline, readDefaults, readSection, type InlineConfig, type VirtplugConfig } from '../config/config.js';
import type { ComputeDriver } from '../driver/compute-driver.js';
import { InvalidArgumentError } from '../errors.js';
import { ExecaProcessRunner } from '../process/process-runner.js';
import { isDriverModule, type DriverModule } from './driver-module.js';
import { CONFIG, DRIVER_CONFIG, DRIVER_NAME, LOGGER, PROCESS_RUNNER, STATE_PATH } from './tokens.js';

type Loader = () => Promise<unknown>;

// Specifiers are held in variables so core never depends on a driver package at build time.
const LIBVIRT = '@virtplug/libvirt';
const VIRTUALBOX = '@virtplug/virtualbox';
const IOHYP = '@virtplug/iohyp';

/** Built-in name → lazy import, as libcloud's DRIVERS map. Nova-style aliases resolve to these. */
const BUILTIN: Record<string, Loader> = {
  fake: () => import('../testing/fake-driver-module.js'),
  libvirt: () => import(LIBVIRT),
  virtualbox: () => import(VIRTUALBOX),
  iohyp: () => import(IOHYP),
};

const ALIASES: Record<string, string> = {
  'fake.FakeDriver': 'fake',
  'libvirt.LibvirtDriver': 'libvirt',
  'virtualbox.VirtualBoxDriver': 'virtualbox',
  'iohyp.IoHypRouter': 'iohyp',
};

const registered = new Map<string, Loader>();

export function builtinDriverNames(): string[] {
  return [...Object.keys(BUILTIN), ...registered.keys()].sort();
}

/** Adds a driver at runtime (libcloud `set_driver`); a taken name is refused. */
export function registerDriver(name: string, loader: Loader): void {
  if (BUILTIN[name] || ALIASES[name] || registered.has(name)) {
    throw new InvalidArgumentError('driver name', name, 'a name not already registered');
  }
  registered.set(name, loader);
}

export function resolveDriverName(name: string): string {
  return ALIASES[name] ?? name;
}

function validNamesSentence(): string {
  return `one of ${builtinDriverNames().join(', ')} (or ${Object.keys(ALIASES).join(', ')}), or an npm package that exports a virtplug driver module`;
}

export async function loadDriverModule(name: string): Promise<DriverModule> {
  const canonical = resolveDriverName(name);
  const loader = BUILTIN[canonical] ?? registered.get(canonical);
  let mod: unknown;
  try {
    mod = await (loader ? loader() : import(canonical));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!loader && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_INVALID_MODULE_SPECIFIER')) {
      throw new InvalidArgumentError('compute driver', name, validNamesSentence(), { cause: e });
    }
    throw e;
  }
  const m = mod as { driverModule?: unknown; default?: unknown };
  const candidate = m.driverModule ?? m.default ?? mod;
  if (!isDriverModule(candidate)) {
    throw new InvalidArgumentError(
      'compute driver module',
      name,
      'a module exporting `driverModule` (or a default export) with name, capabilities and create()',
    );
  }
  return candidate;
}

export interface LoadDriverOptions {
  logger?: Logger;
  /** The parent of the driver's child container; the global tsyringe container otherwise. */
  container?: DependencyContainer;
  /** Call driver.init() before returning it (default true). */
  init?: boolean;
  /** Overrides DEFAULT.compute_driver. */
  driver?: string;
}

/** Validates the sections a driver module declares; the result is what the driver receives. */
export function driverSectionValues(module: DriverModule, config: VirtplugConfig): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, spec] of Object.entries(module.config ?? {})) out[section] = readSection(config, section, spec);
  return out;
}

/**
 * Validates every section of `config` that a registered driver declares, as Nova checks all options at
 * start-up: a bad [virtualbox] value is reported even when another driver is selected. Drivers whose
 * package cannot be loaded here are passed over (`virtplug drivers` says why).
 */
export async function validateConfig(config: VirtplugConfig): Promise<void> {
  readDefaults(config);
  for (const name of builtinDriverNames()) {
    const module = await loadDriverModule(name).catch(() => undefined);
    if (!module?.config) continue;
    for (const [section, spec] of Object.entries(module.config)) {
      if (config.sections[section]) readSection(config, section, spec);
    }
  }
}

export function rootLogger(level: string): Logger {
  // Secrets never reach a log line, whatever a caller passes in bindings.
  return pino({ level, redact: { paths: ['*.password', '*.authPassword', '*.token', '*.*.authPassword', 'auth.*'], censor: '***' } });
}

/**
 * Loads the configured driver: resolves its name, imports it lazily, validates its config sections,
 * and creates it inside its own child container with its config and a `{driver}` child logger bound.
 */
export async function loadDriver<D extends ComputeDriver = ComputeDriver>(
  input: VirtplugConfig | InlineConfig = emptyConfig(),
  options: LoadDriverOptions = {},
): Promise<D> {
  const config = isLoadedConfig(input) ? input : fromInline(input);
  const defaults = readDefaults(config);
  const name = options.driver ?? defaults.compute_driver;
  if (!name) {
    throw new InvalidArgumentError('compute_driver', name, `${validNamesSentence()}; set [DEFAULT] compute_driver or pass --driver`);
  }
  const module = await loadDriverModule(name);
  const sections = driverSectionValues(module, config);
  const logger = (options.logger ?? rootLogger(defaults.log_level)).child({ driver: module.name });
  const child = (options.container ?? rootContainer).createChildContainer();
  child.register(CONFIG, { useValue: config });
  child.register(DRIVER_CONFIG, { useValue: sections });
  child.register(DRIVER_NAME, { useValue: module.name });
  child.register(STATE_PATH, { useValue: defaults.state_path });
  child.register(LOGGER, { useValue: logger });
  if (!child.isRegistered(PROCESS_RUNNER, true)) child.register(PROCESS_RUNNER, { useValue: new ExecaProcessRunner() });
  const driver = (await module.create(child)) as D;
  if (options.init !== false) await driver.init();
  return driver;
}

function isLoadedConfig(x: unknown): x is VirtplugConfig {
  return !!x && typeof (x as VirtplugConfig).file === 'string' && typeof (x as VirtplugConfig).sections === 'object';
}
