import { megabytes, parseKeyValueLines, splitBlocks } from './key-value-blocks.js';

/** `list hostinfo`; nova-virtualbox reads the processor counts, memory and the first CPU's model. */
export interface HostInfoOutput {
  processorCount?: number;
  processorOnlineCount?: number;
  processorCoreCount?: number;
  memorySizeMb?: number;
  memoryAvailableMb?: number;
  cpuModel?: string;
  cpuSpeedMhz?: number;
  operatingSystem?: string;
  operatingSystemVersion?: string;
  hwVirtualization?: boolean;
  fields: Record<string, string>;
}

const int = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

export function parseHostInfo(text: string): HostInfoOutput {
  const fields: Record<string, string> = {};
  for (const block of splitBlocks(text)) {
    for (const { key, value } of parseKeyValueLines(block)) {
      if (!(key in fields)) fields[key] = value;
    }
  }
  const speed = /^(\d+)\s*MHz$/i.exec(fields['Processor#0 speed'] ?? '');
  const hw = fields['Processor supports HW virtualization'];
  const out: HostInfoOutput = { fields };
  const set = <K extends keyof HostInfoOutput>(k: K, v: HostInfoOutput[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('processorCount', int(fields['Processor count']));
  set('processorOnlineCount', int(fields['Processor online count']));
  set('processorCoreCount', int(fields['Processor core count']));
  set('memorySizeMb', megabytes(fields['Memory size']));
  set('memoryAvailableMb', megabytes(fields['Memory available']));
  set('cpuModel', fields['Processor#0 description'] || undefined);
  set('cpuSpeedMhz', speed ? Number(speed[1]) : undefined);
  set('operatingSystem', fields['Operating system']);
  set('operatingSystemVersion', fields['Operating system version']);
  set('hwVirtualization', hw === undefined ? undefined : hw === 'yes');
  return out;
}
