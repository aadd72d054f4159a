import { basename, resolve } from 'node:path';
import { projectGuestImage } from '@virtplug/libvirt';
import { InvalidArgumentError, type Flavor, type ImageMeta } from '@virtplug/core';

/** `guest` names the project's test guest image (tools/guest-image); anything else is a disk image path. */
export function resolveImage(spec: string, extra: { kernel?: string; initrd?: string; cmdline?: string } = {}): ImageMeta {
  if (spec === 'guest') return projectGuestImage();
  const path = resolve(spec);
  const format = /\.(qcow2|raw|vdi|vmdk|vhd)$/.exec(path)?.[1] ?? 'qcow2';
  return {
    id: basename(path),
    name: basename(path),
    diskFormat: format as ImageMeta['diskFormat'],
    path,
    ...(extra.kernel ? { kernel: resolve(extra.kernel) } : {}),
    ...(extra.initrd ? { initrd: resolve(extra.initrd) } : {}),
    ...(extra.cmdline ? { cmdline: extra.cmdline } : {}),
  };
}

/** Nova's classic flavors; --memory/--vcpus override. */
export const FLAVORS: Record<string, Flavor> = {
  'm1.tiny': { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 },
  'm1.small': { name: 'm1.small', memoryMb: 512, vcpus: 1, rootGb: 2 },
  'm1.medium': { name: 'm1.medium', memoryMb: 1024, vcpus: 2, rootGb: 4 },
};

export function resolveFlavor(name: string, overrides: { memory?: number; vcpus?: number; extraSpecs?: string[] }): Flavor {
  const base = FLAVORS[name];
  if (!base) throw new InvalidArgumentError('flavor', name, `one of ${Object.keys(FLAVORS).join(', ')}`);
  return {
    ...base,
    ...(overrides.memory ? { memoryMb: overrides.memory } : {}),
    ...(overrides.vcpus ? { vcpus: overrides.vcpus } : {}),
    ...(overrides.extraSpecs?.length ? { extraSpecs: parseKeyValues('--extra-spec', overrides.extraSpecs) } : {}),
  };
}

/** `k=v` pairs (repeatable options such as --params and --extra-spec). */
export function parseKeyValues(option: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(option, pair, 'key=value');
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}
