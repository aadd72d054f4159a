import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type { VirtplugConfig } from '../config/config.js';
import type { ProcessRunner } from '../process/process-runner.js';

/** DI tokens bound in each driver's child container. Interfaces have no runtime type, hence symbols. */
export const LOGGER: InjectionToken<Logger> = Symbol.for('virtplug.logger');
export const CONFIG: InjectionToken<VirtplugConfig> = Symbol.for('virtplug.config');
/** The validated values of the driver's own config sections, keyed by section name. */
export const DRIVER_CONFIG: InjectionToken<Record<string, Record<string, unknown>>> = Symbol.for('virtplug.driver-config');
export const DRIVER_NAME: InjectionToken<string> = Symbol.for('virtplug.driver-name');
export const STATE_PATH: InjectionToken<string> = Symbol.for('virtplug.state-path');
export const PROCESS_RUNNER: InjectionToken<ProcessRunner> = Symbol.for('virtplug.process-runner');
