import { NotFoundError } from '@virtplug/core';
import { parseExtPacks, type ExtPack } from './parse/extpacks.js';
import { parseExtraDataValue } from './parse/extradata.js';
import { parseHostInfo, type HostInfoOutput } from './parse/hostinfo.js';
import { parseListVms, type ListedVm } from './parse/list-vms.js';
import { parseMediaList, parseMediumInfo, type MediumInfo } from './parse/media.js';
import { parseVmInfo, type VmInfo } from './parse/vm-info.js';
import type { CallOptions, VBoxManageRunner } from './runner.js';

/**
 * Typed VBoxManage queries over the runner: each runs one command and hands its output to the parser
 * for that shape. Machines are always addressed by UUID.
 */
export class VBoxCommands {
  constructor(readonly runner: VBoxManageRunner) {}

  run(args: readonly string[], options?: CallOptions) {
    return this.runner.run(args, options);
  }

  async showVmInfo(uuid: string): Promise<VmInfo> {
    const { stdout } = await this.runner.run(['showvminfo', uuid, '--machinereadable'], { target: uuid });
    return parseVmInfo(stdout);
  }

  /** undefined when VirtualBox has no such machine (deleted between calls, or never created). */
  async findVm(uuid: string): Promise<VmInfo | undefined> {
    try {
      return await this.showVmInfo(uuid);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  async listVms(): Promise<ListedVm[]> {
    return parseListVms((await this.runner.run(['list', 'vms'])).stdout);
  }

  async listRunningVms(): Promise<ListedVm[]> {
    return parseListVms((await this.runner.run(['list', 'runningvms'])).stdout);
  }

  async hostInfo(): Promise<HostInfoOutput> {
    return parseHostInfo((await this.runner.run(['list', 'hostinfo'])).stdout);
  }

  async listHdds(): Promise<MediumInfo[]> {
    return parseMediaList((await this.runner.run(['list', 'hdds'])).stdout);
  }

  async mediumInfo(uuidOrPath: string): Promise<MediumInfo> {
    const { stdout } = await this.runner.run(['showmediuminfo', 'disk', uuidOrPath], { target: uuidOrPath });
    const info = parseMediumInfo(stdout);
    if (!info) throw new NotFoundError('medium', uuidOrPath, 'VBoxManage showmediuminfo printed no UUID');
    return info;
  }

  async extPacks(): Promise<ExtPack[]> {
    return parseExtPacks((await this.runner.run(['list', 'extpacks'])).stdout);
  }

  async getExtraData(uuid: string, key: string): Promise<string | undefined> {
    return parseExtraDataValue((await this.runner.run(['getextradata', uuid, key], { target: uuid })).stdout);
  }

  /** An undefined value deletes the key. */
  async setExtraData(uuid: string, key: string, value: string | undefined): Promise<void> {
    await this.runner.run(value === undefined ? ['setextradata', uuid, key] : ['setextradata', uuid, key, value], { target: uuid });
  }

  async modifyVm(uuid: string, args: readonly string[]): Promise<void> {
    await this.runner.run(['modifyvm', uuid, ...args], { target: uuid });
  }

  async controlVm(uuid: string, action: string, ...args: string[]): Promise<void> {
    await this.runner.run(['controlvm', uuid, action, ...args], { target: uuid });
  }
}
