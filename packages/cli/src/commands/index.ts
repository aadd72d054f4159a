import type { VirtplugCommand } from './command.js';
import { cloudletCommands } from './cloudlet.js';
import { configCommands } from './config.js';
import { driversCommand } from './drivers.js';
import { instanceCommands } from './instances.js';
import { iohypCommands } from './iohyp.js';
import { matrixCommand } from './matrix.js';
import { smokeCommand } from './smoke.js';
import { vmsCommands } from './vms.js';

/** Every command of `virtplug`, by group. A package adds its group here. */
export const commands: VirtplugCommand<any>[] = [driversCommand, matrixCommand, smokeCommand, ...configCommands, ...instanceCommands, ...vmsCommands, ...iohypCommands, ...cloudletCommands];
