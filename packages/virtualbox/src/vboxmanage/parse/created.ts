/**
 * Success output of the commands that create something: `createvm` (`UUID: …` + `Settings file: '…'`),
 * `createmedium`/`createhd` (`Medium created. UUID: …` / `Disk image created. UUID: …`), `clonemedium`
 * (`Clone medium created in format 'VMDK'. UUID: …`) and `snapshot take` (`Snapshot taken. UUID: …`).
 */
const UUID = /UUID:\s*\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?/;

export function parseCreatedUuid(text: string): string | undefined {
  return UUID.exec(text)?.[1]?.toLowerCase();
}

export interface CreatedVm {
  uuid?: string;
  settingsFile?: string;
}

export function parseCreateVm(text: string): CreatedVm {
  const settings = /^Settings file:\s*'(.*)'\s*$/m.exec(text);
  const uuid = parseCreatedUuid(text);
  return { ...(uuid ? { uuid } : {}), ...(settings ? { settingsFile: settings[1] } : {}) };
}

/** `clonemedium` prints the format it wrote: `Clone medium created in format 'VMDK'`. */
export function parseCloneFormat(text: string): string | undefined {
  return /created in format '([^']+)'/.exec(text)?.[1];
}
