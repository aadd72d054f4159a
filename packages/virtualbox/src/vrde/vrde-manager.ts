import type { Logger } from 'pino';
import { NotFoundError, UnsupportedOperationError, type ConsoleInfo, type InstanceRef } from '@virtplug/core';
import type { VBoxSettings } from '../config.js';
import type { VBoxCommands } from '../vboxmanage/commands.js';
import type { VmInfo } from '../vboxmanage/parse/vm-info.js';
import { OFF_STATES } from '../lifecycle/state-map.js';
import { protocolForModule, selectExtPack, type ExtPackChoice, type VrdeProtocol } from './extpack.js';
import { vrdePassword } from './password.js';
import { parsePortSpec } from './port-spec.js';
import { VrdePortPool } from './port-pool.js';
import { vrdeModifyArgs } from './vrde-args.js';

/**
 * The VRDE side of the driver: chooses the extension pack once (`setproperty vrdeextpack`), hands out
 * ports from the pool, builds the `modifyvm` VRDE arguments, and answers console requests.
 */
export class VrdeManager {
  readonly pool: VrdePortPool;
  readonly protocol: VrdeProtocol;
  private extPack?: Promise<ExtPackChoice>;
  private seeded?: Promise<void>;

  constructor(
    private readonly vbox: VBoxCommands,
    private readonly settings: VBoxSettings,
    private readonly logger: Logger,
    private readonly hostAddress: () => string,
  ) {
    this.pool = new VrdePortPool(settings.virtualbox.vrde_port, settings.virtualbox.vrde_unique_port);
    this.protocol = protocolForModule(settings.virtualbox.vrde_module);
  }

  get enabled(): boolean {
    return this.settings.virtualbox.remote_display;
  }

  /** Lists the installed packs and makes the configured one VirtualBox's VRDE provider (once). */
  ensureExtPack(): Promise<ExtPackChoice> {
    this.extPack ??= (async () => {
      const packs = await this.vbox.extPacks();
      const module = this.settings.virtualbox.vrde_module;
      const choice = selectExtPack(packs, module);
      if (!choice) {
        const installed = packs.map((p) => `${p.name}${p.usable ? '' : ' (unusable)'}`).join(', ') || 'none';
        throw new NotFoundError(
          'VirtualBox extension pack',
          module,
          `installed: ${installed}; install it (VBoxManage extpack install <file>) or set [virtualbox] vrde_module, or set remote_display = false`,
        );
      }
      await this.vbox.run(['setproperty', 'vrdeextpack', choice.pack.name]);
      this.logger.info({ pack: choice.pack.name, protocol: choice.protocol }, 'VRDE extension pack selected');
      return choice;
    })();
    this.extPack.catch(() => (this.extPack = undefined));
    return this.extPack;
  }

  /**
   * Ports held by instances an earlier process started: a machine whose VRDE is on and that is not
   * powered off keeps its port. Read from the hypervisor once, so pool state survives CLI invocations.
   */
  private seed(): Promise<void> {
    this.seeded ??= (async () => {
      if (!this.pool.unique) return;
      for (const vm of await this.vbox.listVms()) {
        if (vm.inaccessible || this.pool.portOf(vm.uuid) !== undefined) continue;
        const info = await this.vbox.findVm(vm.uuid);
        if (!info || !info.vrde.enabled || OFF_STATES.has(info.state)) continue;
        const port = info.vrde.ports ? parsePortSpec(info.vrde.ports).at(-1) : undefined;
        if (port !== undefined) this.pool.seed(vm.uuid, port);
      }
    })();
    this.seeded.catch(() => (this.seeded = undefined));
    return this.seeded;
  }

  /** Takes (or returns the already held) port for an instance, after learning what others hold. */
  async acquirePort(uuid: string): Promise<number> {
    await this.seed();
    return this.pool.acquire(uuid);
  }

  /** The `modifyvm` arguments enabling VRDE for an instance, taking a port from the pool. */
  async modifyArgs(instance: InstanceRef): Promise<string[]> {
    const choice = await this.ensureExtPack();
    const port = await this.acquirePort(instance.uuid);
    const password = vrdePassword(instance.uuid, this.settings.virtualbox);
    return vrdeModifyArgs({ port, protocol: choice.protocol, rdp: this.settings.rdp, ...(password !== undefined ? { password } : {}) });
  }

  /** Gives the instance's port back (unique mode); returns it, for logging. */
  release(uuid: string): number | undefined {
    return this.pool.unique ? this.pool.release(uuid) : undefined;
  }

  /** Throws UnsupportedOperationError unless this configuration serves consoles of `type`. */
  requireConsole(driver: string, type: VrdeProtocol): void {
    if (!this.enabled) {
      throw new UnsupportedOperationError(driver, `get${type === 'vnc' ? 'Vnc' : 'Rdp'}Console`, 'set [virtualbox] remote_display = true to enable VRDE consoles');
    }
    if (type !== this.protocol) {
      throw new UnsupportedOperationError(
        driver,
        `get${type === 'vnc' ? 'Vnc' : 'Rdp'}Console`,
        `the VRDE module ${JSON.stringify(this.settings.virtualbox.vrde_module)} serves ${this.protocol.toUpperCase()}, not ${type.toUpperCase()}; change [virtualbox] vrde_module`,
      );
    }
  }

  console(instance: InstanceRef, info: VmInfo, type: VrdeProtocol): ConsoleInfo {
    // Running VMs report the port the server bound (vrdeport); otherwise the configured one.
    const configured = info.vrde.ports ? parsePortSpec(info.vrde.ports).at(-1) : undefined;
    const port = info.vrde.activePort > 0 ? info.vrde.activePort : (this.pool.portOf(instance.uuid) ?? configured);
    if (!info.vrde.enabled || port === undefined) {
      throw new NotFoundError('VRDE console of instance', instance.name, 'its VRDE server is off; it is enabled at spawn when remote_display = true');
    }
    const address = info.vrde.address && info.vrde.address !== '0.0.0.0' ? info.vrde.address : this.hostAddress();
    const password = type === 'vnc' ? vrdePassword(instance.uuid, this.settings.virtualbox) : undefined;
    return {
      type,
      host: address,
      port,
      ...(password !== undefined ? { password } : {}),
      ...(type === 'rdp' && !this.pool.unique ? { internalAccessPath: instance.name } : {}),
    };
  }
}
