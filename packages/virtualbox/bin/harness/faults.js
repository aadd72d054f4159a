// Faults on demand, from control.json `faults`: [{ command, action?, match?, error|hang, times? }].
// `times` counts down under the state lock and the fault disappears at 0; without it, it stays.
import { saveControl } from './state.js';
import { VBoxError, lockedBySession, lockedForSession, notFoundVm } from './output.js';

function matches(fault, args) {
  if (fault.command && fault.command !== '*' && fault.command !== args[0]) return false;
  if (fault.action && !args.slice(1, 3).includes(fault.action)) return false;
  if (fault.match && !args.join(' ').includes(fault.match)) return false;
  return true;
}

/** Picks (and counts down) the first fault matching this invocation. */
export function takeFault(home, control, args) {
  const faults = control.faults ?? [];
  const i = faults.findIndex((f) => matches(f, args));
  if (i < 0) return undefined;
  const fault = { ...faults[i] };
  if (typeof fault.times === 'number') {
    faults[i].times -= 1;
    if (faults[i].times <= 0) faults.splice(i, 1);
    saveControl(home, { ...control, faults });
  }
  return fault;
}

export function faultError(fault, state, args) {
  const ref = args[1] ?? '';
  const vm = state.vms[ref.toLowerCase()] ?? Object.values(state.vms).find((v) => v.name === ref);
  const name = vm?.name ?? ref;
  switch (fault.error) {
    case 'locked':
      return lockedForSession(name);
    case 'locked-by':
      return lockedBySession(name);
    case 'not-ready':
      return new VBoxError(['The object is not ready'], { code: 'E_ACCESSDENIED', component: 'SessionMachine', iface: 'IMachine' });
    case 'notfound':
      return notFoundVm(ref);
    case 'internal':
      return new VBoxError([`Failed to start the virtual machine '${name}' (VERR_INTERNAL_ERROR)`], { code: 'NS_ERROR_FAILURE', component: 'ConsoleWrap', iface: 'IConsole' });
    case 'terminated':
      return new VBoxError([`The virtual machine '${name}' has terminated unexpectedly during startup with exit code 1 (0x1)`], {
        code: 'NS_ERROR_FAILURE', component: 'MachineWrap', iface: 'IMachine', callee: null,
      });
    case 'disk-full':
      return new VBoxError([`Could not create the clone medium '${args.at(-3) ?? ''}' (VERR_DISK_FULL)`], { code: 'VBOX_E_FILE_ERROR', component: 'MediumWrap', iface: 'IMedium' });
    case 'error-exit0':
      return new VBoxError(['The object is in an unexpected state'], { exitCode: 0 });
    default:
      return new VBoxError([fault.message ?? `injected fault ${JSON.stringify(fault.error)}`], { code: fault.code ?? 'NS_ERROR_FAILURE' });
  }
}
