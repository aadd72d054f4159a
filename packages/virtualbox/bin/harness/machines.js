// Machines: lookup, createvm, modifyvm, unregistervm, list vms, extradata.
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseOptions } from './args.js';
import { deleteMedium, attachedTo } from './media.js';
import { PROGRESS, VBoxError, lockedForSession, notFoundVm, notMutable, syntaxError } from './output.js';

export const RUNNING_STATES = new Set(['running', 'paused', 'gurumeditation']);

/** VirtualBox's file name sanitising of machine names (composeMachineFilename). */
export function sanitizeName(name) {
  return name.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_').replace(/^\./, '_');
}

/** Applies what happened "in the guest" since the last call: an ACPI shutdown that completed. */
export function settle(vm, now = Date.now()) {
  if (vm.acpiShutdownAt && now >= vm.acpiShutdownAt && vm.state === 'running') {
    setState(vm, 'poweroff');
    vm.vrdeActivePort = -1;
  }
  if (vm.state !== 'running') delete vm.acpiShutdownAt;
}

export function setState(vm, state) {
  vm.state = state;
  vm.stateChangeTime = new Date().toISOString().replace('Z', '000000');
}

export function findVm(state, control, ref) {
  const id = ref.replace(/[{}]/g, '').toLowerCase();
  const vm = state.vms[id] ?? Object.values(state.vms).find((v) => v.name === ref);
  if (!vm) throw notFoundVm(ref);
  settle(vm);
  vm.inaccessible = (control.inaccessible ?? []).includes(vm.uuid);
  return vm;
}

/** Settings changes need a write lock: refused while the VM process holds its session. */
export function requireMutable(vm, file) {
  if (vm.inaccessible) throw accessDenied();
  if (RUNNING_STATES.has(vm.state)) throw lockedForSession(vm.name, file);
  if (vm.state === 'saved') throw notMutable('saved');
}

export const accessDenied = () =>
  new VBoxError(['The object functionality is limited'], { code: 'E_ACCESSDENIED', component: 'MachineWrap', iface: 'IMachine' });

export function createVm(state, argv) {
  const o = Object.fromEntries(
    parseOptions(argv, { '--name': 1, '--uuid': 1, '--basefolder': 1, '--ostype': 1, '--register': 0, '--groups': 1, '--default': 0 }).map(([f, v]) => [f, v[0] ?? true]),
  );
  if (!o['--name']) throw syntaxError('Parameter --name is required');
  const uuid = (o['--uuid'] ?? randomUUID()).replace(/[{}]/g, '').toLowerCase();
  const base = resolve(o['--basefolder'] ?? join(process.env.HOME ?? '/root', 'VirtualBox VMs'));
  const file = sanitizeName(o['--name']);
  const cfgFile = join(base, file, `${file}.vbox`);
  if (existsSync(cfgFile)) {
    throw new VBoxError([`Machine settings file '${cfgFile}' already exists`], { code: 'VBOX_E_FILE_ERROR', component: 'MachineWrap', iface: 'IMachine' });
  }
  if (state.vms[uuid]) {
    throw new VBoxError([`Cannot register machine '${o['--name']}' {${uuid}}, because a machine '${state.vms[uuid].name}' with UUID {${uuid}} already exists`], {
      code: 'VBOX_E_OBJECT_IN_USE', component: 'VirtualBoxWrap', iface: 'IVirtualBox',
    });
  }
  mkdirSync(dirname(cfgFile), { recursive: true });
  writeFileSync(cfgFile, `<?xml version="1.0"?>\n<!-- fake-vboxmanage machine ${uuid} -->\n`);
  const vm = {
    uuid, name: o['--name'], ostype: o['--ostype'] ?? 'Other', cfgFile, memory: 128, cpus: 1, acpi: 'on', ioapic: 'on',
    boot: ['floppy', 'dvd', 'disk', 'none'], nics: {}, uart1: null, vrde: { enabled: false, ports: '3389', address: '', properties: {} },
    vrdeActivePort: -1, controllers: [], attachments: {}, snapshots: [], extradata: {}, bootCount: 0, bootId: null,
  };
  setState(vm, 'poweroff');
  if (o['--register']) state.vms[uuid] = vm;
  return {
    stdout: `Virtual machine '${vm.name}' is ${o['--register'] ? 'created and registered' : 'created'}.\nUUID: ${uuid}\nSettings file: '${cfgFile}'\n`,
  };
}

const MODIFY_ARITY = {
  '--memory': 1, '--cpus': 1, '--ostype': 1, '--acpi': 1, '--ioapic': 1, '--description': 1, '--bootN': 1,
  '--nicN': 1, '--nictypeN': 1, '--macaddressN': 1, '--cableconnectedN': 1, '--bridgeadapterN': 1,
  '--uartN': (v) => (v === 'off' ? 1 : 2), '--uartmodeN': (v) => (v === 'disconnected' ? 1 : 2),
  '--vrde': 1, '--vrdeport': 1, '--vrdeaddress': 1, '--vrdeproperty': 1, '--vrdeauthtype': 1, '--vrdemulticon': 1, '--vrdeextpack': 1,
};

export function modifyVm(vm, argv) {
  const options = parseOptions(argv, MODIFY_ARITY);
  requireMutable(vm, 'VBoxManageModifyVM.cpp');
  for (const [flag, [v, w]] of options) {
    const n = /(\d+)$/.exec(flag)?.[1];
    if (flag === '--memory') vm.memory = Number(v);
    else if (flag === '--cpus') {
      if (!(Number(v) >= 1 && Number(v) <= 32)) {
        throw new VBoxError([`Invalid virtual CPU count: ${v} (must be in range [1, 32])`], { code: 'NS_ERROR_INVALID_ARG' });
      }
      vm.cpus = Number(v);
    } else if (flag === '--ostype') vm.ostype = v;
    else if (flag === '--acpi') vm.acpi = v;
    else if (flag === '--ioapic') vm.ioapic = v;
    else if (flag === '--description') vm.description = v;
    else if (flag.startsWith('--boot')) vm.boot[Number(n) - 1] = v;
    else if (flag.startsWith('--nictype')) (vm.nics[n] ??= {}).nictype = v;
    else if (flag.startsWith('--nic')) (vm.nics[n] ??= {}).type = v;
    else if (flag.startsWith('--macaddress')) (vm.nics[n] ??= {}).mac = v;
    else if (flag.startsWith('--cableconnected')) (vm.nics[n] ??= {}).cable = v;
    else if (flag.startsWith('--bridgeadapter')) (vm.nics[n] ??= {}).bridge = v;
    else if (flag === '--uart1') vm.uart1 = v === 'off' ? null : { io: v, irq: w, mode: vm.uart1?.mode ?? 'disconnected', path: vm.uart1?.path ?? '' };
    else if (flag === '--uartmode1') {
      if (!vm.uart1) throw new VBoxError(['UART 1 is not enabled']);
      vm.uart1.mode = v;
      vm.uart1.path = w ?? '';
    } else if (flag === '--vrde') vm.vrde.enabled = v === 'on';
    else if (flag === '--vrdeport') vm.vrde.ports = v;
    else if (flag === '--vrdeaddress') vm.vrde.address = v;
    else if (flag === '--vrdeproperty') {
      const eq = v.indexOf('=');
      if (eq < 0) throw syntaxError(`Invalid --vrdeproperty argument '${v}'`);
      vm.vrde.properties[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (flag === '--vrdeauthtype') vm.vrde.authtype = v;
  }
  return {};
}

function removeEmptyDirs(dir, stop) {
  for (let d = dir; d.startsWith(stop) && d !== stop; d = dirname(d)) {
    try {
      if (readdirSync(d).length) return;
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** unregistervm [--delete]: with --delete, the VM's own disks (not shared, not in use elsewhere) go too. */
export function unregisterVm(state, vm, del) {
  if (RUNNING_STATES.has(vm.state)) {
    throw new VBoxError([`Cannot unregister the machine '${vm.name}' while it is locked`], { code: 'VBOX_E_INVALID_OBJECT_STATE' });
  }
  delete state.vms[vm.uuid];
  if (!del || vm.inaccessible) return {};
  // The machine's own media: what is attached now and what its snapshots froze. Children go first;
  // a medium still used by another machine, or with a child that is not ours, stays.
  const own = new Set([...Object.values(vm.attachments).map((a) => a.medium), ...vm.snapshots.flatMap((s) => s.frozen ?? [])]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const uuid of own) {
      const m = state.media[uuid];
      if (!m || attachedTo(state, uuid).length || Object.values(state.media).some((x) => x.parent === uuid)) continue;
      deleteMedium(state, m);
      own.delete(uuid);
      changed = true;
    }
  }
  rmSync(vm.cfgFile, { force: true });
  rmSync(join(dirname(vm.cfgFile), 'Logs'), { recursive: true, force: true });
  rmSync(join(dirname(vm.cfgFile), 'Snapshots'), { recursive: true, force: true });
  removeEmptyDirs(dirname(vm.cfgFile), dirname(dirname(vm.cfgFile)));
  return { stderr: PROGRESS };
}

export function listVms(state, control, onlyRunning) {
  return Object.values(state.vms)
    .map((vm) => (settle(vm), vm))
    .filter((vm) => !onlyRunning || RUNNING_STATES.has(vm.state))
    .map((vm) => ((control.inaccessible ?? []).includes(vm.uuid) ? `"<inaccessible>" {${vm.uuid}}` : `"${vm.name}" {${vm.uuid}}`))
    .map((l) => l + '\n')
    .join('');
}

export function getExtraData(vm, key) {
  if (key === 'enumerate') return Object.entries(vm.extradata).map(([k, v]) => `Key: ${k}, Value: ${v}\n`).join('');
  return key in vm.extradata ? `Value: ${vm.extradata[key]}\n` : 'No value set!\n';
}

export function setExtraData(vm, key, value) {
  if (value === undefined) delete vm.extradata[key];
  else vm.extradata[key] = value;
  return {};
}
