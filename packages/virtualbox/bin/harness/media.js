// The media registry (list hdds, showmediuminfo, createmedium, clonemedium, closemedium, …).
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROGRESS, VBoxError, syntaxError } from './output.js';
import { payloadOf, probeDisk, setCapacity, writeVdi } from './disk-files.js';

const fileError = (lines, iface = 'IMedium', context) =>
  new VBoxError(lines, { code: 'VBOX_E_FILE_ERROR', component: 'MediumWrap', iface, ...(context ? { context } : {}) });

const OPEN_CONTEXT = '"OpenMedium(Bstr(pszFilenameOrUuid).raw(), enmDevType, enmAccessMode, fForceNewUuidOnOpen, pMedium.asOutParam())" at line 201 of file VBoxManageDisk.cpp';

export function findMedium(state, ref) {
  const byUuid = state.media[ref.replace(/[{}]/g, '').toLowerCase()];
  if (byUuid) return byUuid;
  const path = resolve(ref);
  return Object.values(state.media).find((m) => m.location === path || m.location === ref);
}

/** Opens a medium by UUID or path, registering it as VirtualBox does when a path is first used. */
export function openMedium(state, ref) {
  const known = findMedium(state, ref);
  if (known) return known;
  if (/^\{?[0-9a-f-]{36}\}?$/i.test(ref)) {
    throw new VBoxError([`Could not find an open hard disk with UUID {${ref.replace(/[{}]/g, '')}}`], {
      code: 'VBOX_E_OBJECT_NOT_FOUND', component: 'VirtualBoxWrap', iface: 'IVirtualBox',
    });
  }
  const path = resolve(ref);
  if (!existsSync(path)) throw fileError([`Could not find file for the medium '${path}' (VERR_FILE_NOT_FOUND)`], 'IMedium', OPEN_CONTEXT);
  const probe = probeDisk(path);
  if (!probe) {
    throw new VBoxError([`Could not get the storage format of the medium '${path}' (VERR_NOT_SUPPORTED)`], {
      code: 'VBOX_E_IPRT_ERROR', component: 'MediumWrap', iface: 'IMedium', context: OPEN_CONTEXT,
    });
  }
  const uuid = (probe.uuid ?? randomUUID()).toLowerCase();
  if (state.media[uuid]) {
    throw new VBoxError([`Cannot register the hard disk '${path}' {${uuid}} because a hard disk '${state.media[uuid].location}' with UUID {${uuid}} already exists`], {
      code: 'VBOX_E_OBJECT_IN_USE', component: 'VirtualBoxWrap', iface: 'IVirtualBox',
    });
  }
  const medium = { uuid, location: path, format: probe.format, parent: probe.parent ?? null, capacityMb: probe.capacityMb, type: 'normal' };
  state.media[uuid] = medium;
  return medium;
}

export function childrenOf(state, uuid) {
  return Object.values(state.media).filter((m) => m.parent === uuid);
}

export function attachedTo(state, uuid) {
  return Object.values(state.vms).filter((vm) => Object.values(vm.attachments ?? {}).some((a) => a.medium === uuid));
}

/** Content of a medium with its parents, oldest first: what a clone flattens into one image. */
export function chainPayload(state, medium) {
  const parts = [];
  for (let m = medium; m; m = m.parent ? state.media[m.parent] : undefined) {
    if (m.format !== 'iSCSI' && existsSync(m.location)) parts.unshift(payloadOf(m.location));
  }
  return Buffer.concat(parts);
}

export function createVdiMedium(state, path, { capacityMb, parent = null, payload }) {
  if (existsSync(path)) {
    throw fileError(['Failed to create medium', `Could not create the medium storage unit '${path}'.`, `VDI: cannot create image '${path}' (VERR_ALREADY_EXISTS)`]);
  }
  const uuid = writeVdi(path, { capacityMb, parent, ...(payload ? { payload } : {}) });
  const medium = { uuid, location: path, format: 'VDI', parent, capacityMb, type: 'normal' };
  state.media[uuid] = medium;
  return medium;
}

export function deleteMedium(state, medium) {
  if (medium.format !== 'iSCSI') rmSync(medium.location, { force: true });
  delete state.media[medium.uuid];
}

function mediumBlock(state, m, long) {
  const parent = m.parent ? m.parent : 'base';
  const inUse = attachedTo(state, m.uuid);
  const running = inUse.some((vm) => ['running', 'paused'].includes(vm.state));
  const lines = [
    `UUID:           ${m.uuid}`,
    `Parent UUID:    ${parent}`,
    `State:          ${childrenOf(state, m.uuid).length ? 'locked read' : running ? 'locked write' : 'created'}`,
    `Type:           ${m.type} (${m.parent ? 'differencing' : 'base'})`,
    `Location:       ${m.location}`,
    `Storage format: ${m.format}`,
  ];
  if (long) lines.push('Format variant: dynamic default');
  lines.push(`Capacity:       ${m.capacityMb} MBytes`);
  if (long && m.format !== 'iSCSI' && existsSync(m.location)) lines.push(`Size on disk:   ${Math.ceil(statSync(m.location).size / 1048576)} MBytes`);
  lines.push('Encryption:     disabled');
  if (long && inUse.length) lines.push(`In use by VMs:  ${inUse.map((vm) => `${vm.name} (UUID: ${vm.uuid})`).join('\n                ')}`);
  const children = childrenOf(state, m.uuid);
  if (long && children.length) lines.push(`Child UUIDs:    ${children.map((c) => c.uuid).join('\n                ')}`);
  return lines.join('\n') + '\n';
}

export const listHdds = (state) => Object.values(state.media).map((m) => mediumBlock(state, m, false) + '\n').join('');

export const showMediumInfo = (state, ref) => mediumBlock(state, openMedium(state, ref), true);

/** createmedium disk --filename F (--size MB | --diffparent P) [--format VDI] */
export function createMedium(state, opts) {
  const path = opts['--filename'] && resolve(opts['--filename']);
  if (!path) throw syntaxError('Parameter --filename is required');
  if (opts['--diffparent']) {
    const parent = openMedium(state, opts['--diffparent']);
    const m = createVdiMedium(state, path, { capacityMb: parent.capacityMb, parent: parent.uuid });
    return { stdout: `Medium created. UUID: ${m.uuid}\n`, stderr: PROGRESS };
  }
  const size = Number(opts['--size'] ?? opts['--sizebyte'] / 1048576);
  if (!(size > 0)) throw syntaxError('Parameter --size is required');
  const m = createVdiMedium(state, path, { capacityMb: size });
  return { stdout: `Medium created. UUID: ${m.uuid}\n`, stderr: PROGRESS };
}

export function cloneMedium(state, src, dst) {
  const source = openMedium(state, src);
  const m = createVdiMedium(state, resolve(dst), { capacityMb: source.capacityMb, payload: chainPayload(state, source) });
  return { stdout: `Clone medium created in format 'VDI'. UUID: ${m.uuid}\n`, stderr: PROGRESS };
}

export function convertFromRaw(input, output) {
  const src = resolve(input);
  if (!existsSync(src)) throw new VBoxError([`Cannot open the raw disk '${src}': VERR_FILE_NOT_FOUND`]);
  const size = statSync(src).size;
  const dst = resolve(output);
  if (existsSync(dst)) throw new VBoxError([`Cannot create the disk image "${dst}": VERR_ALREADY_EXISTS`]);
  writeVdi(dst, { capacityMb: Math.max(1, Math.ceil(size / 1048576)), payload: payloadOf(src) });
  return { stdout: `Converting from raw image file="${src}" to file="${dst}"...\nCreating dynamic image with size ${size} bytes (${Math.ceil(size / 1048576)}MB)...\n` };
}

export function closeMedium(state, ref, del) {
  const m = openMedium(state, ref);
  const users = attachedTo(state, m.uuid);
  if (users.length) {
    throw new VBoxError([`Cannot close medium '${m.location}' because it is still attached to ${users.length} virtual machines`], {
      code: 'VBOX_E_OBJECT_IN_USE', component: 'MediumWrap', iface: 'IMedium',
    });
  }
  const kids = childrenOf(state, m.uuid);
  if (kids.length) {
    throw new VBoxError([`Cannot close medium '${m.location}' because it has ${kids.length} child media`], {
      code: 'VBOX_E_OBJECT_IN_USE', component: 'MediumWrap', iface: 'IMedium',
    });
  }
  if (del) {
    deleteMedium(state, m);
    return { stderr: PROGRESS };
  }
  delete state.media[m.uuid];
  return {};
}

export function modifyMedium(state, ref, opts) {
  const m = openMedium(state, ref);
  if (opts['--resize'] !== undefined) {
    const mb = Number(opts['--resize']);
    if (mb < m.capacityMb) {
      throw new VBoxError(['Shrinking is not yet supported for medium', `'${m.location}'`], { code: 'VBOX_E_NOT_SUPPORTED', component: 'MediumWrap', iface: 'IMedium' });
    }
    m.capacityMb = mb;
    if (m.format === 'VDI') setCapacity(m.location, mb);
    return { stderr: PROGRESS };
  }
  if (opts['--type']) m.type = opts['--type'];
  return {};
}
