// storagectl, storageattach (files and iSCSI, hot-plug on SATA) and snapshots.
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { optionMap } from './args.js';
import { guestWrite, payloadOf, probeDisk } from './disk-files.js';
import { RUNNING_STATES, accessDenied, requireMutable } from './machines.js';
import { attachedTo, createVdiMedium, openMedium } from './media.js';
import { PROGRESS, VBoxError, notMutable, syntaxError } from './output.js';

export function storageCtl(vm, argv) {
  const o = optionMap(argv, { '--name': 1, '--add': 1, '--controller': 1, '--portcount': 1, '--bootable': 1, '--hostiocache': 1, '--remove': 0 });
  if (!o['--name']) throw syntaxError('Storage controller name not specified');
  requireMutable(vm, 'VBoxManageStorageController.cpp');
  const existing = vm.controllers.find((c) => c.name === o['--name']);
  if (o['--remove']) {
    if (!existing) throw new VBoxError([`Could not find a controller named '${o['--name']}'`], { code: 'VBOX_E_OBJECT_NOT_FOUND' });
    vm.controllers = vm.controllers.filter((c) => c !== existing);
    return {};
  }
  if (existing) throw new VBoxError([`Storage controller named '${o['--name']}' already exists`], { code: 'VBOX_E_OBJECT_IN_USE' });
  vm.controllers.push({ name: o['--name'], bus: o['--add'] ?? 'sata', controller: o['--controller'] ?? 'IntelAhci', portcount: Number(o['--portcount'] ?? 1), bootable: o['--bootable'] ?? 'on' });
  return {};
}

const ATTACH_ARITY = {
  '--storagectl': 1, '--port': 1, '--device': 1, '--type': 1, '--medium': 1, '--hotpluggable': 1, '--mtype': 1, '--nonrotational': 1,
  '--server': 1, '--tport': 1, '--target': 1, '--lun': 1, '--username': 1, '--password': 1, '--initiator': 1, '--intnet': 0,
};

function iscsiMedium(state, o) {
  if (!o['--server'] || !o['--target']) throw syntaxError('Parameters --server and --target are required for iSCSI media');
  const server = o['--tport'] ? `${o['--server']}:${o['--tport']}` : o['--server'];
  const location = `${server}|${o['--target']}|${o['--lun'] ?? '0'}`;
  const known = Object.values(state.media).find((m) => m.location === location);
  if (known) return known;
  const uuid = randomUUID();
  state.media[uuid] = {
    uuid, location, format: 'iSCSI', parent: null, capacityMb: 1024, type: 'normal',
    iscsi: { server: o['--server'], tport: o['--tport'] ?? null, target: o['--target'], lun: o['--lun'] ?? '0', initiator: o['--initiator'] ?? null, username: o['--username'] ?? null, password: o['--password'] ?? null },
  };
  return state.media[uuid];
}

export function storageAttach(state, vm, argv) {
  const o = optionMap(argv, ATTACH_ARITY);
  if (vm.inaccessible) throw accessDenied();
  if (vm.state === 'saved') throw notMutable('saved');
  const ctl = vm.controllers.find((c) => c.name === o['--storagectl']);
  if (!ctl) throw new VBoxError([`Could not find a controller named '${o['--storagectl']}'`], { code: 'VBOX_E_OBJECT_NOT_FOUND' });
  const port = Number(o['--port'] ?? 0);
  if (!(port >= 0 && port < ctl.portcount)) throw new VBoxError([`The port number ${port} is out of range [0, ${ctl.portcount - 1}]`], { code: 'NS_ERROR_INVALID_ARG' });
  const slot = `${ctl.name}-${port}-${o['--device'] ?? 0}`;
  const running = RUNNING_STATES.has(vm.state);
  if (running && ctl.bus !== 'sata') throw new VBoxError([`Controller '${ctl.name}' does not support hot-plugging`], { code: 'VBOX_E_INVALID_VM_STATE' });
  if (o['--medium'] === undefined) throw syntaxError('Missing --medium argument');
  if (o['--medium'] === 'none' || o['--medium'] === 'emptydrive') {
    const current = vm.attachments[slot];
    if (!current) throw new VBoxError([`No storage device attached to device slot 0 on port ${port} of controller '${ctl.name}'`], { code: 'VBOX_E_OBJECT_NOT_FOUND' });
    if (running && !current.hotpluggable) throw new VBoxError([`Device slot 0 on port ${port} of controller '${ctl.name}' is not hot-pluggable`], { code: 'VBOX_E_NOT_SUPPORTED' });
    delete vm.attachments[slot];
    return {};
  }
  const medium = o['--medium'] === 'iscsi' ? iscsiMedium(state, o) : openMedium(state, o['--medium']);
  const others = attachedTo(state, medium.uuid).filter((x) => x.uuid !== vm.uuid);
  if (others.length) {
    throw new VBoxError([`Medium '${medium.location}' is already attached to the virtual machine '${others[0].name}'`], { code: 'VBOX_E_OBJECT_IN_USE', component: 'MediumWrap', iface: 'IMedium' });
  }
  if (running && o['--hotpluggable'] !== 'on' && vm.attachments[slot] === undefined) {
    throw new VBoxError([`Device slot 0 on port ${port} of controller '${ctl.name}' is not hot-pluggable`], { code: 'VBOX_E_NOT_SUPPORTED' });
  }
  vm.attachments[slot] = { medium: medium.uuid, hotpluggable: o['--hotpluggable'] === 'on' };
  if (running && port > 0 && medium.format !== 'iSCSI') guestWrite(medium.location, `volume at port ${port} of '${vm.name}'\n`);
  return {};
}

export function snapshot(state, vm, action, argv) {
  if (vm.inaccessible) throw accessDenied();
  if (action === 'take') {
    const name = argv[0];
    if (!name) throw syntaxError('Missing snapshot name');
    optionMap(argv.slice(1), { '--live': 0, '--description': 1, '--uniquename': 1 });
    const uuid = randomUUID();
    const frozen = [];
    mkdirSync(join(dirname(vm.cfgFile), 'Snapshots'), { recursive: true });
    for (const [slot, a] of Object.entries(vm.attachments)) {
      const m = state.media[a.medium];
      if (!m || m.format === 'iSCSI') continue;
      const child = createVdiMedium(state, join(dirname(vm.cfgFile), 'Snapshots', `{${randomUUID()}}.vdi`), { capacityMb: m.capacityMb, parent: m.uuid });
      vm.attachments[slot] = { ...a, medium: child.uuid };
      frozen.push(m.uuid);
    }
    vm.snapshots.push({ uuid, name, frozen });
    return { stdout: `Snapshot taken. UUID: ${uuid}\n`, stderr: PROGRESS };
  }
  if (action === 'delete') {
    const ref = argv[0];
    const snap = vm.snapshots.find((s) => s.uuid === ref || s.name === ref);
    if (!snap) throw new VBoxError([`Could not find a snapshot named '${ref}'`], { code: 'VBOX_E_OBJECT_NOT_FOUND', component: 'MachineWrap', iface: 'IMachine' });
    // Merge each differencing image made by the snapshot back into the medium it froze.
    for (const [slot, a] of Object.entries(vm.attachments)) {
      const child = state.media[a.medium];
      if (!child || !snap.frozen.includes(child.parent)) continue;
      const parent = state.media[child.parent];
      if (existsSync(child.location) && probeDisk(parent.location)?.harness) appendFileSync(parent.location, payloadOf(child.location));
      vm.attachments[slot] = { ...a, medium: parent.uuid };
      rmSync(child.location, { force: true });
      delete state.media[child.uuid];
    }
    vm.snapshots = vm.snapshots.filter((s) => s !== snap);
    return { stderr: PROGRESS };
  }
  if (action === 'list') {
    if (!vm.snapshots.length) return { stdout: 'This machine does not have any snapshots\n' };
    return { stdout: vm.snapshots.map((s) => `   Name: ${s.name} (UUID: ${s.uuid})\n`).join('') };
  }
  throw syntaxError(`Invalid parameter '${action}'`);
}
