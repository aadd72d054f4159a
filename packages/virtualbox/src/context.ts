import type { Logger } from 'pino';
import type { InstanceRef, LifecycleTransition } from '@virtplug/core';
import type { VBoxSettings } from './config.js';
import type { InstancePaths } from './paths.js';
import type { VBoxCommands } from './vboxmanage/commands.js';
import type { KeyedMutex } from '@virtplug/core';
import type { VBoxManageRunner } from './vboxmanage/runner.js';
import type { VrdeManager } from './vrde/vrde-manager.js';

/** What the driver's parts share; the driver builds one and passes it to the folders' functions. */
export interface DriverContext {
  driverName: string;
  settings: VBoxSettings;
  runner: VBoxManageRunner;
  vbox: VBoxCommands;
  logger: Logger;
  /** Per-VM (and per-base-image) locks: one operation on a machine at a time within this process. */
  locks: KeyedMutex;
  vrde: VrdeManager;
  paths: InstancePaths;
  emit(instance: InstanceRef, transition: LifecycleTransition): void;
  sleep(ms: number): Promise<void>;
}

/** The SATA controller every instance gets: port 0 the root disk, ports 1-29 volumes. */
export const SATA = 'SATA';
export const SATA_PORTS = 30;
export const EXTRADATA_IMAGE = 'virtplug/image';
