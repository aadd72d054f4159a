import { fileURLToPath } from 'node:url';
import {
  emptyConfig,
  evidenceDir,
  loadConfigFile,
  loadDriver,
  rootLogger,
  readDefaults,
  validateConfig,
  type ComputeDriver,
  type InstanceRef,
  type VirtplugConfig,
} from '@virtplug/core';
import type { Logger } from 'pino';
import { validatePackageSections } from './config-sections.js';
import { Printer } from './output/printer.js';
import { progressBar, type Progress } from './output/progress.js';
import { NotFoundError } from '@virtplug/core';

export interface GlobalArgs {
  config?: string;
  driver?: string;
  json?: boolean;
  logLevel?: string;
}

/**
 * What every command handler gets: the loaded config, the configured driver (loaded on first use and
 * closed at exit), output, and logging. Commands stay thin: parse, call the library, print.
 */
export class CliContext {
  readonly printer: Printer;
  private loadedConfig?: VirtplugConfig;
  private loadedDriver?: Promise<ComputeDriver>;
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(readonly args: GlobalArgs) {
    this.printer = new Printer(Boolean(args.json));
  }

  /** Loads and validates the config file up front, so a bad value stops the command before it acts. */
  async prepare(): Promise<void> {
    if (!this.args.config) return;
    await validateConfig(this.config);
    validatePackageSections(this.config);
  }

  get config(): VirtplugConfig {
    this.loadedConfig ??= this.args.config ? loadConfigFile(this.args.config) : emptyConfig();
    return this.loadedConfig;
  }

  get debug(): boolean {
    return ['debug', 'trace'].includes(this.logLevel);
  }

  get logLevel(): string {
    return this.args.logLevel ?? readDefaults(this.config).log_level;
  }

  logger(): Logger {
    return rootLogger(this.logLevel);
  }

  driverName(): string | undefined {
    return this.args.driver ?? (readDefaults(this.config).compute_driver || undefined);
  }

  /** The configured driver, loaded once; `name` overrides config and --driver (smoke <driver>). */
  driver(name?: string): Promise<ComputeDriver> {
    if (name) return this.track(loadDriver(this.config, { driver: name, logger: this.logger() }));
    this.loadedDriver ??= this.track(
      loadDriver(this.config, { ...(this.args.driver ? { driver: this.args.driver } : {}), logger: this.logger() }),
    );
    return this.loadedDriver;
  }

  async instance(idOrName: string): Promise<InstanceRef> {
    const driver = await this.driver();
    const ref = await driver.findInstance(idOrName);
    if (!ref) throw new NotFoundError('Instance', idOrName, "run 'virtplug list' to see the instances");
    return ref;
  }

  progress(label: string): Progress {
    return progressBar(label, !this.args.json);
  }

  evidenceDir(): string {
    return evidenceDir(this.config, fileURLToPath(new URL('.', import.meta.url)));
  }

  onExit(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
  }

  private track(p: Promise<ComputeDriver>): Promise<ComputeDriver> {
    this.onExit(async () => (await p.catch(() => undefined))?.close());
    return p;
  }
}
