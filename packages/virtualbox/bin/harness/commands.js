// Subcommand dispatch: each handler changes `state` and returns { stdout?, stderr? }.
import { optionMap } from './args.js';
import { hostInfo, listExtPacks, listOsTypes, setProperty } from './host.js';
import { createVm, findVm, getExtraData, listVms, modifyVm, setExtraData, unregisterVm } from './machines.js';
import { cloneMedium, closeMedium, convertFromRaw, createMedium, listHdds, modifyMedium, showMediumInfo } from './media.js';
import { syntaxError } from './output.js';
import { controlVm, discardState, startVm } from './power.js';
import { snapshot, storageAttach, storageCtl } from './storage.js';
import { renderVmInfo } from './vminfo.js';

const dropDisk = (args) => (args[0] === 'disk' ? args.slice(1) : args);

export function dispatch(state, control, args) {
  const [command, ...rest] = args;
  const vm = () => findVm(state, control, rest[0] ?? '');
  switch (command) {
    case 'list': {
      const what = rest.find((a) => !a.startsWith('-'));
      if (what === 'vms') return { stdout: listVms(state, control, false) };
      if (what === 'runningvms') return { stdout: listVms(state, control, true) };
      if (what === 'hostinfo') return { stdout: hostInfo() };
      if (what === 'hdds') return { stdout: listHdds(state) };
      if (what === 'extpacks') return { stdout: listExtPacks(control) };
      if (what === 'ostypes') return { stdout: listOsTypes() };
      throw syntaxError(`Unknown subcommand '${what}'`);
    }
    case 'showvminfo':
      return { stdout: renderVmInfo(state, vm()) };
    case 'createvm':
      return createVm(state, rest);
    case 'modifyvm':
      return modifyVm(vm(), rest.slice(1));
    case 'startvm':
      optionMap(rest.slice(1), { '--type': 1, '-E': 1, '--putenv': 1 });
      return startVm(state, vm());
    case 'controlvm':
      if (!rest[1]) throw syntaxError('Not enough parameters');
      return controlVm(state, control, vm(), rest[1], rest.slice(2));
    case 'discardstate':
      return discardState(vm());
    case 'unregistervm':
      return unregisterVm(state, vm(), rest.includes('--delete') || rest.includes('--delete-all'));
    case 'storagectl':
      return storageCtl(vm(), rest.slice(1));
    case 'storageattach':
      return storageAttach(state, vm(), rest.slice(1));
    case 'snapshot':
      return snapshot(state, vm(), rest[1], rest.slice(2));
    case 'createmedium':
    case 'createhd':
      return createMedium(state, optionMap(dropDisk(rest), { '--filename': 1, '--size': 1, '--sizebyte': 1, '--diffparent': 1, '--format': 1, '--variant': 1 }));
    case 'clonemedium':
    case 'clonehd': {
      const a = dropDisk(rest);
      optionMap(a.slice(2), { '--format': 1, '--variant': 1, '--existing': 0 });
      return cloneMedium(state, a[0], a[1]);
    }
    case 'convertfromraw':
      optionMap(rest.slice(2), { '--format': 1, '--variant': 1, '--uuid': 1 });
      return convertFromRaw(rest[0], rest[1]);
    case 'closemedium':
      return closeMedium(state, dropDisk(rest)[0], rest.includes('--delete'));
    case 'modifymedium':
    case 'modifyhd': {
      const a = dropDisk(rest);
      return modifyMedium(state, a[0], optionMap(a.slice(1), { '--resize': 1, '--type': 1, '--compact': 0 }));
    }
    case 'showmediuminfo':
    case 'showhdinfo':
      return { stdout: showMediumInfo(state, dropDisk(rest)[0]) };
    case 'setextradata':
      return setExtraData(vm(), rest[1], rest[2]);
    case 'getextradata':
      return { stdout: getExtraData(vm(), rest[1]) };
    case 'setproperty':
      return setProperty(state, control, rest[0], rest[1]);
    default:
      throw syntaxError(`Invalid command '${command}'`);
  }
}
