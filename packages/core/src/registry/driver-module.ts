import type { DependencyContainer } from 'tsyringe';
import type { CapabilityDeclarations } from '../capabilities/declarations.js';
import type { SectionSpec } from '../config/options.js';
import type { ComputeDriver } from '../driver/compute-driver.js';
import type { ProbeResult } from '../model/host.js';
import type { VirtplugConfig } from '../config/config.js';
import type { ContractOptions } from '../testing/contract/options.js';

/**
 * What a driver package exports (as `driverModule` or default) so the registry can load it by name,
 * like libcloud's DRIVERS entries or an Nx plugin module. Declarations are static: the matrix report
 * reads them without connecting anywhere.
 */
export interface DriverModule<D extends ComputeDriver = ComputeDriver> {
  name: string;
  title: string;
  aliases?: readonly string[];
  capabilities: CapabilityDeclarations;
  /** The config sections this driver reads, and their options. */
  config?: Readonly<Record<string, SectionSpec>>;
  /** Whether the driver can work here, without creating it. */
  probe?(config: VirtplugConfig): Promise<ProbeResult>;
  create(container: DependencyContainer): D | Promise<D>;
  /** How `virtplug smoke <name>` runs the contract kit against the configured backend. */
  smoke?(driver: D, context: { evidenceDir: string; config: VirtplugConfig }): Promise<ContractOptions>;
  /** Reference drivers (the fake) stay out of the capability matrix. */
  inMatrix?: boolean;
}

export function isDriverModule(value: unknown): value is DriverModule {
  const m = value as Partial<DriverModule> | null;
  return (
    !!m &&
    typeof m.name === 'string' &&
    typeof m.create === 'function' &&
    typeof m.capabilities === 'object' &&
    m.capabilities !== null
  );
}
