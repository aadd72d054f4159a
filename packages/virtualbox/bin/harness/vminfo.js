// `showvminfo --machinereadable`, in the key order and quoting of reference sample S2, plus the stray
// `Encryption:` line and `VMStateFile` key that VirtualBox 7 prints.
import { dirname, join } from 'node:path';
import { mrLine } from './output.js';

function storageLines(vm) {
  const out = [];
  vm.controllers.forEach((c, i) => {
    out.push(mrLine(`storagecontrollername${i}`, c.name), mrLine(`storagecontrollertype${i}`, c.controller));
    out.push(mrLine(`storagecontrollerinstance${i}`, '0'), mrLine(`storagecontrollermaxportcount${i}`, '30'));
    out.push(mrLine(`storagecontrollerportcount${i}`, String(c.portcount)), mrLine(`storagecontrollerbootable${i}`, c.bootable));
  });
  return out;
}

function attachmentLines(state, vm) {
  const out = [];
  for (const c of vm.controllers) {
    for (let port = 0; port < c.portcount; port++) {
      const a = vm.attachments[`${c.name}-${port}-0`];
      const m = a ? state.media[a.medium] : undefined;
      out.push(mrLine(`${c.name}-${port}-0`, m ? m.location : 'none', true));
      if (m) out.push(mrLine(`${c.name}-ImageUUID-${port}-0`, m.uuid, true));
    }
  }
  return out;
}

function nicLines(vm) {
  const out = [];
  for (let i = 1; i <= 8; i++) {
    const nic = vm.nics[i];
    if (!nic || !nic.type || nic.type === 'none' || nic.type === 'null') {
      out.push(mrLine(`nic${i}`, 'none'));
      continue;
    }
    if (nic.type === 'nat') out.push(mrLine(`natnet${i}`, 'nat'));
    if (nic.type === 'bridged') out.push(mrLine(`bridgeadapter${i}`, nic.bridge ?? ''));
    out.push(mrLine(`macaddress${i}`, nic.mac ?? `080027${String(i).padStart(6, '0')}`), mrLine(`cableconnected${i}`, nic.cable ?? 'on'));
    out.push(mrLine(`nic${i}`, nic.type), mrLine(`nictype${i}`, nic.nictype ?? '82540EM'), mrLine(`nicspeed${i}`, '0'));
  }
  return out;
}

function snapshotLines(vm) {
  if (!vm.snapshots.length) return [];
  const out = [];
  let suffix = '';
  for (const s of vm.snapshots) {
    out.push(mrLine(`SnapshotName${suffix}`, s.name), mrLine(`SnapshotUUID${suffix}`, s.uuid));
    suffix += '-1';
  }
  const cur = vm.snapshots[vm.snapshots.length - 1];
  out.push(mrLine('CurrentSnapshotName', cur.name), mrLine('CurrentSnapshotUUID', cur.uuid), mrLine('CurrentSnapshotNode', `SnapshotName${suffix.slice(3)}`));
  return out;
}

export function renderVmInfo(state, vm) {
  const folder = dirname(vm.cfgFile);
  if (vm.inaccessible) return [mrLine('name', '<inaccessible>'), mrLine('UUID', vm.uuid), mrLine('CfgFile', vm.cfgFile)].join('\n') + '\n';
  const v = vm.vrde;
  const lines = [
    mrLine('name', vm.name), mrLine('groups', '/'), mrLine('ostype', vm.ostype), mrLine('UUID', vm.uuid), mrLine('CfgFile', vm.cfgFile),
    mrLine('SnapFldr', join(folder, 'Snapshots')), mrLine('LogFldr', join(folder, 'Logs')), 'Encryption:     disabled',
    mrLine('hardwareuuid', vm.uuid), mrLine('memory', vm.memory), mrLine('pagefusion', 'off'), mrLine('vram', 8), mrLine('cpuexecutioncap', 100),
    mrLine('hpet', 'off'), mrLine('chipset', 'piix3'), mrLine('firmware', 'BIOS'), mrLine('cpus', vm.cpus), mrLine('pae', 'on'), mrLine('longmode', 'on'),
    mrLine('triplefaultreset', 'off'), mrLine('apic', 'on'), mrLine('x2apic', 'on'), mrLine('cpuid-portability-level', 0), mrLine('bootmenu', 'messageandmenu'),
    ...vm.boot.map((b, i) => mrLine(`boot${i + 1}`, b)),
    mrLine('acpi', vm.acpi), mrLine('ioapic', vm.ioapic), mrLine('biosapic', 'apic'), mrLine('biossystemtimeoffset', 0), mrLine('rtcuseutc', 'off'),
    mrLine('hwvirtex', 'on'), mrLine('nestedpaging', 'on'), mrLine('largepages', 'on'), mrLine('vtxvpid', 'on'), mrLine('vtxux', 'on'),
    mrLine('paravirtprovider', 'default'), mrLine('effparavirtprovider', 'kvm'),
    mrLine('VMState', vm.state), mrLine('VMStateChangeTime', vm.stateChangeTime),
    ...(vm.state === 'saved' ? [mrLine('VMStateFile', join(folder, 'Snapshots', `${vm.stateChangeTime.slice(0, 10)}.sav`))] : []),
    mrLine('monitorcount', 1), mrLine('accelerate3d', 'off'), mrLine('accelerate2dvideo', 'off'), mrLine('teleporterenabled', 'off'),
    mrLine('teleporterport', 0), mrLine('teleporteraddress', ''), mrLine('teleporterpassword', ''), mrLine('tracing-enabled', 'off'),
    mrLine('tracing-allow-vm-access', 'off'), mrLine('tracing-config', ''), mrLine('autostart-enabled', 'off'), mrLine('autostart-delay', 0),
    mrLine('defaultfrontend', ''),
    ...(vm.description ? [mrLine('description', vm.description)] : []),
    ...storageLines(vm), ...attachmentLines(state, vm), ...nicLines(vm),
    mrLine('hidpointing', 'ps2mouse'), mrLine('hidkeyboard', 'ps2kbd'),
    mrLine('uart1', vm.uart1 ? `0x${Number.parseInt(vm.uart1.io, 16).toString(16).padStart(4, '0')},${vm.uart1.irq}` : 'off'),
    ...(vm.uart1 ? [mrLine('uartmode1', vm.uart1.mode === 'disconnected' ? 'disconnected' : `${vm.uart1.mode},${vm.uart1.path}`)] : []),
    mrLine('uart2', 'off'), mrLine('uart3', 'off'), mrLine('uart4', 'off'), mrLine('lpt1', 'off'), mrLine('lpt2', 'off'),
    mrLine('audio', 'none'), mrLine('clipboard', 'disabled'), mrLine('draganddrop', 'disabled'),
    mrLine('vrde', v.enabled ? 'on' : 'off'),
    ...(v.enabled
      ? [
          mrLine('vrdeport', vm.vrdeActivePort ?? -1), mrLine('vrdeports', v.ports), mrLine('vrdeaddress', v.address), mrLine('vrdeauthtype', v.authtype ?? 'null'),
          mrLine('vrdemulticon', 'off'), mrLine('vrdereusecon', 'off'), mrLine('vrdevideochannel', 'off'),
          mrLine('vrdeproperty[TCP/Ports]', v.ports), mrLine('vrdeproperty[TCP/Address]', v.address),
          ...Object.entries(v.properties).map(([k, val]) => mrLine(`vrdeproperty[${k}]`, val)),
        ]
      : []),
    mrLine('usb', 'off'), mrLine('ehci', 'off'), mrLine('xhci', 'off'), mrLine('GuestMemoryBalloon', 0),
    ...snapshotLines(vm),
  ];
  return lines.join('\n') + '\n';
}
