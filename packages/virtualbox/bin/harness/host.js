// Host-level commands: --version, list hostinfo/extpacks/ostypes, setproperty.
import { cpus, release, totalmem, freemem, type } from 'node:os';
import { VBoxError } from './output.js';

export const DEFAULT_VERSION = '7.0.20r163906';

export function versionText(control) {
  const warning = control.kernelModuleWarning
    ? 'WARNING: The vboxdrv kernel module is not loaded. Either there is no module\n' +
      '         available for the current kernel (6.1.0-fake) or it failed to\n' +
      '         load. Please recompile the kernel module and install it by\n\n' +
      '           sudo /sbin/vboxconfig\n\n' +
      '         You will not be able to start VMs until this problem is fixed.\n'
    : '';
  return warning + `${control.version ?? DEFAULT_VERSION}\n`;
}

export function hostInfo() {
  const list = cpus();
  const lines = ['Host Information:', '', `Host time: ${new Date().toISOString().replace('Z', '000000Z')}`];
  lines.push(`Processor online count: ${list.length}`, `Processor count: ${list.length}`);
  lines.push(`Processor online core count: ${list.length}`, `Processor core count: ${list.length}`);
  for (const f of ['HW virtualization', 'PAE', 'long mode', 'nested paging', 'unrestricted guest', 'nested HW virtualization']) {
    lines.push(`Processor supports ${f}: yes`);
  }
  list.forEach((c, i) => lines.push(`Processor#${i} speed: ${c.speed ? `${c.speed} MHz` : 'unknown'}`, `Processor#${i} description: ${c.model}`));
  lines.push(`Memory size: ${Math.floor(totalmem() / 1048576)} MByte`, `Memory available: ${Math.floor(freemem() / 1048576)} MByte`);
  lines.push(`Operating system: ${type()}`, `Operating system version: ${release()}`);
  return lines.join('\n') + '\n';
}

/** Installed packs: the Oracle pack and a VNC pack unless control.json says otherwise. */
export function installedPacks(control) {
  return (
    control.extpacks ?? [
      { name: 'Oracle VM VirtualBox Extension Pack', version: '7.0.20', revision: '163906', module: 'VBoxVRDP', usable: true },
      { name: 'VNC', version: '7.0.20', revision: '163906', module: 'VBoxVNC', usable: true },
    ]
  );
}

/** The 7.x alignment of reference sample S7. */
export function listExtPacks(control) {
  const packs = installedPacks(control);
  const blocks = packs.map((p, i) =>
    [
      `Pack no. ${i}:   ${p.name}`,
      `Version:        ${p.version}`,
      `Revision:       ${p.revision}`,
      'Edition:        ',
      `Description:    ${p.module === 'VBoxVNC' ? 'VNC plugin module' : 'Oracle Cloud Infrastructure integration, Host Webcam, VirtualBox RDP, PXE ROM, Disk Encryption, NVMe, full VM encryption.'}`,
      `VRDE Module:    ${p.module}`,
      `Usable:         ${p.usable ? 'true' : 'false'}`,
      ...(p.usable ? [] : [`Why unusable:   ${p.why ?? 'unknown'}`]),
    ].join('\n'),
  );
  return `Extension Packs: ${packs.length}\n` + blocks.join('\n\n') + '\n';
}

export function setProperty(state, control, name, value) {
  if (name === 'vrdeextpack') {
    if (value && value !== 'null' && !installedPacks(control).some((p) => p.name === value)) {
      throw new VBoxError([`Extension pack '${value}' does not exist`], { code: 'NS_ERROR_INVALID_ARG', component: 'SystemPropertiesWrap', iface: 'ISystemProperties' });
    }
    state.props.vrdeextpack = value;
    return {};
  }
  state.props[name] = value;
  return {};
}

export const listOsTypes = () =>
  ['Other', 'Linux_64', 'Ubuntu_64', 'Debian_64', 'Windows2019_64'].map((id) => `ID:          ${id}\nDescription: ${id}\nFamily ID:   ${/Win/.test(id) ? 'Windows' : 'Linux'}\n\n`).join('');
