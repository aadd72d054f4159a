import { mrNumber, parseMachineReadable, type MachineReadable } from './machine-readable.js';

export interface StorageAttachment {
  controller: string;
  port: number;
  device: number;
  /** Medium location (file path, or `server|target|lun` for iSCSI); null for an empty slot. */
  location: string | null;
  imageUuid?: string;
}

export interface VmNic {
  index: number;
  /** nat, bridged, hostonly, intnet, null… */
  type: string;
  mac?: string;
  bridge?: string;
}

/** The typed view of `showvminfo --machinereadable` that the driver needs; `raw` keeps the rest. */
export interface VmInfo {
  name: string;
  uuid: string;
  inaccessible: boolean;
  /** The machine-readable VMState (poweroff, running, saved, gurumeditation, …); "inaccessible" if so. */
  state: string;
  memoryMb: number;
  cpus: number;
  acpi: boolean;
  cfgFile?: string;
  controllers: string[];
  attachments: StorageAttachment[];
  nics: VmNic[];
  vrde: { enabled: boolean; activePort: number; ports?: string; address?: string; properties: Record<string, string> };
  uart1: { enabled: boolean; mode?: string; path?: string };
  snapshots: Array<{ name: string; uuid: string }>;
  raw: MachineReadable;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function attachments(raw: MachineReadable, controllers: string[]): StorageAttachment[] {
  const out: StorageAttachment[] = [];
  for (const controller of controllers) {
    const slot = new RegExp(`^${escapeRe(controller)}-(\\d+)-(\\d+)$`);
    for (const [key, location] of Object.entries(raw)) {
      const m = slot.exec(key);
      if (!m) continue;
      const imageUuid = raw[`${controller}-ImageUUID-${m[1]}-${m[2]}`];
      out.push({
        controller,
        port: Number(m[1]),
        device: Number(m[2]),
        location: location === 'emptydrive' ? null : location,
        ...(imageUuid ? { imageUuid } : {}),
      });
    }
  }
  return out.sort((a, b) => a.controller.localeCompare(b.controller) || a.port - b.port || a.device - b.device);
}

function nics(raw: MachineReadable): VmNic[] {
  const out: VmNic[] = [];
  for (let i = 1; i <= 36; i++) {
    const type = raw[`nic${i}`];
    if (type === undefined) continue;
    if (type === null) continue;
    const mac = raw[`macaddress${i}`] ?? undefined;
    const bridge = raw[`bridgeadapter${i}`] ?? undefined;
    out.push({ index: i, type, ...(mac ? { mac } : {}), ...(bridge ? { bridge } : {}) });
  }
  return out;
}

function snapshots(raw: MachineReadable): Array<{ name: string; uuid: string }> {
  const out: Array<{ name: string; uuid: string }> = [];
  for (const [key, name] of Object.entries(raw)) {
    const m = /^SnapshotName((?:-\d+)*)$/.exec(key);
    const uuid = m ? raw[`SnapshotUUID${m[1]}`] : undefined;
    if (m && name !== null && uuid) out.push({ name, uuid });
  }
  return out;
}

export function vmInfoFrom(raw: MachineReadable): VmInfo {
  const name = raw.name ?? '';
  const inaccessible = name === '<inaccessible>' || raw.accessible === 'no';
  const controllers: string[] = [];
  for (let i = 0; raw[`storagecontrollername${i}`] !== undefined; i++) {
    const c = raw[`storagecontrollername${i}`];
    if (c) controllers.push(c);
  }
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const m = /^vrdeproperty\[(.+)\]$/.exec(key);
    if (m && value !== null) properties[m[1]!] = value;
  }
  const uartMode = raw.uartmode1 ?? undefined;
  const comma = uartMode ? uartMode.indexOf(',') : -1;
  return {
    name,
    uuid: raw.UUID ?? '',
    inaccessible,
    state: inaccessible ? 'inaccessible' : (raw.VMState ?? 'unknown'),
    memoryMb: mrNumber(raw, 'memory') ?? 0,
    cpus: mrNumber(raw, 'cpus') ?? 0,
    acpi: raw.acpi === 'on',
    ...(raw.CfgFile ? { cfgFile: raw.CfgFile } : {}),
    controllers,
    attachments: attachments(raw, controllers),
    nics: nics(raw),
    vrde: {
      enabled: raw.vrde === 'on',
      activePort: mrNumber(raw, 'vrdeport') ?? -1,
      ...(raw.vrdeports ? { ports: raw.vrdeports } : {}),
      ...(raw.vrdeaddress ? { address: raw.vrdeaddress } : {}),
      properties,
    },
    uart1: {
      enabled: raw.uart1 !== undefined && raw.uart1 !== null && raw.uart1 !== 'off',
      ...(uartMode ? { mode: comma < 0 ? uartMode : uartMode.slice(0, comma) } : {}),
      ...(uartMode && comma >= 0 ? { path: uartMode.slice(comma + 1) } : {}),
    },
    snapshots: snapshots(raw),
    raw,
  };
}

export function parseVmInfo(text: string): VmInfo {
  return vmInfoFrom(parseMachineReadable(text));
}
