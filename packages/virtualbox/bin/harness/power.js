// The VM process: startvm, controlvm, discardstate, and the fake guest's behaviour (serial output,
// a boot record on its disk, ACPI shutdown after a short delay unless told to ignore the button).
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { guestWrite } from './disk-files.js';
import { RUNNING_STATES, accessDenied, setState } from './machines.js';
import { PROGRESS, STATE_NAMES, VBoxError, invalidState, lockedBySession, notRunning, syntaxError } from './output.js';

function portsOf(spec) {
  const out = [];
  for (const item of String(spec).split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) continue;
    for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) out.push(p);
  }
  return out;
}

/** The VRDE server binds the first port of its list that no other running machine's server holds. */
function bindVrde(state, vm) {
  if (!vm.vrde.enabled) return -1;
  const taken = new Set(Object.values(state.vms).filter((o) => o !== vm && RUNNING_STATES.has(o.state)).map((o) => o.vrdeActivePort));
  return portsOf(vm.vrde.ports).find((p) => !taken.has(p)) ?? -1;
}

function bootDisk(state, vm) {
  const key = Object.keys(vm.attachments).sort().find((k) => /-0-0$/.test(k));
  const medium = key ? state.media[vm.attachments[key].medium] : undefined;
  return medium && medium.format !== 'iSCSI' ? medium.location : undefined;
}

function serial(vm, text) {
  if (vm.uart1?.mode !== 'file' || !vm.uart1.path) return;
  try {
    appendFileSync(vm.uart1.path, text);
  } catch {
    // VirtualBox logs an unwritable UART file and runs on.
  }
}

/** A fresh boot: new boot id, serial console output, and a record on the boot disk. */
export function boot(state, vm) {
  vm.bootCount = (vm.bootCount ?? 0) + 1;
  vm.bootId = randomUUID();
  const disk = bootDisk(state, vm);
  serial(
    vm,
    `[    0.000000] Linux version 6.1.0-fake (fake-vboxmanage replay harness)\n` +
      `[    0.412000] virtplug: boot ${vm.bootCount} of '${vm.name}' boot_id=${vm.bootId} root=${disk ?? 'none'}\n` +
      'VIRTPLUG-READY\n',
  );
  if (disk) guestWrite(disk, `boot ${vm.bootId} ${vm.name}\n`);
  setState(vm, 'running');
  vm.vrdeActivePort = bindVrde(state, vm);
}

export function startVm(state, vm) {
  if (vm.inaccessible) throw accessDenied();
  if (RUNNING_STATES.has(vm.state)) throw lockedBySession(vm.name);
  if (vm.state === 'saved') {
    setState(vm, 'running');
    vm.vrdeActivePort = bindVrde(state, vm);
    serial(vm, `[ resume] virtplug: '${vm.name}' restored from saved state\n`);
  } else {
    boot(state, vm);
  }
  return { stdout: `Waiting for VM "${vm.name}" to power on...\nVM "${vm.name}" has been successfully started.\n` };
}

export function discardState(vm) {
  if (vm.state !== 'saved') {
    throw new VBoxError([`Cannot discard the saved state as the machine is not in the saved state (machine state: ${STATE_NAMES[vm.state] ?? vm.state})`], {
      code: 'VBOX_E_INVALID_VM_STATE',
    });
  }
  setState(vm, 'poweroff');
  return {};
}

export function controlVm(state, control, vm, action, rest) {
  if (!RUNNING_STATES.has(vm.state)) throw notRunning(vm.name);
  switch (action) {
    case 'pause':
      if (vm.state !== 'running') throw invalidState(vm.state, 'Running');
      setState(vm, 'paused');
      return {};
    case 'resume':
      if (vm.state !== 'paused') throw invalidState(vm.state, 'Paused');
      setState(vm, 'running');
      return {};
    case 'reset':
      boot(state, vm);
      return {};
    case 'poweroff':
      setState(vm, 'poweroff');
      vm.vrdeActivePort = -1;
      serial(vm, '[ power] virtplug: powered off\n');
      return { stderr: PROGRESS };
    case 'savestate':
      setState(vm, 'saved');
      vm.vrdeActivePort = -1;
      return { stderr: PROGRESS };
    case 'acpipowerbutton':
      if (vm.state !== 'running') throw invalidState(vm.state, 'Running');
      if (vm.acpi === 'on' && control.acpi !== 'ignore' && !vm.acpiShutdownAt) vm.acpiShutdownAt = Date.now() + (control.acpiDelayMs ?? 200);
      return {};
    case 'vrde':
      vm.vrde.enabled = rest[0] === 'on';
      vm.vrdeActivePort = bindVrde(state, vm);
      return {};
    case 'vrdeport':
      vm.vrde.ports = rest[0];
      vm.vrdeActivePort = bindVrde(state, vm);
      return {};
    default:
      throw syntaxError(`Invalid parameter '${action}'`);
  }
}
