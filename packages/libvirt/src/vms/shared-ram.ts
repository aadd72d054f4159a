import { InvalidArgumentError } from '@virtplug/core';
import { child, el, elements, findPath, removeChildren, textOf, type XmlElement } from '../xml/tree.js';

/**
 * Guest RAM as a file, for the `shared` VMS mode. libvirt 9 names the RAM backend `pc.ram` and picks
 * its path itself, and has no way to ask for QEMU's x-ignore-shared. So every VMS-capable domain gets
 * its RAM from our own backend object `vpram`, declared in `<qemu:commandline>` and made the machine's
 * memory with a later `-machine memory-backend=vpram` (QEMU merges -machine options; the last wins).
 * libvirt's own `pc.ram` object stays, unused and untouched (no RSS, not migrated). Because the RAM
 * block is called `vpram` everywhere (template, clones, migrated copies), the migration streams of all
 * of them are compatible:
 *   - template (a running source):      memory-backend-file, share=on, on tmpfs  -> bless skips RAM
 *   - clone in shared mode:             memory-backend-file, share=off (MAP_PRIVATE) on the blessed file
 *   - clone in copy mode / persistent:  memory-backend-ram (anonymous)
 */
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';
export const RAM_BACKEND_ID = 'vpram';
export const QMP_CHARDEV_ID = 'vpqmp';

export type RamBackend = { kind: 'file'; path: string; share: boolean } | { kind: 'ram' };

/** The guest's RAM size in bytes from `<memory>`. */
export function memoryBytes(domain: XmlElement): number {
  const m = child(domain, 'memory');
  const unit = (m?.attrs.unit ?? 'KiB').toLowerCase();
  const n = Number(textOf(m) ?? NaN);
  const mult: Record<string, number> = { b: 1, bytes: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };
  if (!Number.isFinite(n) || mult[unit] === undefined) throw new InvalidArgumentError('domain <memory>', textOf(m), 'a size in KiB');
  return n * mult[unit]!;
}

function qemuPrefix(domain: XmlElement): string {
  for (const [k, v] of Object.entries(domain.attrs)) if (v === QEMU_NS && k.startsWith('xmlns:')) return k.slice(6);
  domain.attrs['xmlns:qemu'] = QEMU_NS;
  return 'qemu';
}

function commandline(domain: XmlElement): { cl: XmlElement; p: string } {
  const p = qemuPrefix(domain);
  let cl = child(domain, `${p}:commandline`);
  if (!cl) {
    cl = el(`${p}:commandline`);
    domain.children.push(cl);
  }
  return { cl, p };
}

/** The commandline's args as a flat list of values. */
function argValues(cl: XmlElement, p: string): string[] {
  return elements(cl, `${p}:arg`).map((a) => a.attrs.value ?? '');
}

function setArgs(cl: XmlElement, p: string, values: string[]): void {
  removeChildren(cl, (e) => e.name === `${p}:arg`);
  cl.children.unshift(...values.map((v) => el(`${p}:arg`, { value: v })));
}

/** Removes an option and its value wherever `match(value)` holds. */
function dropPairs(values: string[], option: string, match: (value: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] === option && i + 1 < values.length && match(values[i + 1]!)) {
      i++;
      continue;
    }
    out.push(values[i]!);
  }
  return out;
}

function isOurObject(v: string): boolean {
  try {
    return (JSON.parse(v) as { id?: string }).id === RAM_BACKEND_ID;
  } catch {
    return false;
  }
}

/** QEMU option strings separate with ',' and escape it as ',,'. */
const optEscape = (s: string) => s.replace(/,/g, ',,');

export function setRamBackend(domain: XmlElement, backend: RamBackend): void {
  const size = memoryBytes(domain);
  const { cl, p } = commandline(domain);
  let values = argValues(cl, p);
  values = dropPairs(values, '-object', isOurObject);
  values = dropPairs(values, '-machine', (v) => v === `memory-backend=${RAM_BACKEND_ID}`);
  const object =
    backend.kind === 'file'
      ? { 'qom-type': 'memory-backend-file', id: RAM_BACKEND_ID, 'mem-path': backend.path, share: backend.share, size }
      : { 'qom-type': 'memory-backend-ram', id: RAM_BACKEND_ID, size };
  setArgs(cl, p, ['-object', JSON.stringify(object), '-machine', `memory-backend=${RAM_BACKEND_ID}`, ...values]);
}

export function readRamBackend(domain: XmlElement): RamBackend | null {
  const p = Object.entries(domain.attrs).find(([k, v]) => v === QEMU_NS && k.startsWith('xmlns:'))?.[0].slice(6);
  if (!p) return null;
  const cl = child(domain, `${p}:commandline`);
  if (!cl) return null;
  for (const v of argValues(cl, p)) {
    if (!isOurObject(v)) continue;
    const o = JSON.parse(v) as { 'qom-type': string; 'mem-path'?: string; share?: boolean };
    if (o['qom-type'] === 'memory-backend-file' && o['mem-path']) return { kind: 'file', path: o['mem-path'], share: o.share === true };
    return { kind: 'ram' };
  }
  return null;
}

/** A second QMP monitor on a unix socket of ours: the only way to set x-ignore-shared before the load. */
export function addQmpMonitor(domain: XmlElement, socketPath: string): void {
  removeQmpMonitor(domain);
  const { cl, p } = commandline(domain);
  const values = argValues(cl, p);
  setArgs(cl, p, [...values, '-chardev', `socket,id=${QMP_CHARDEV_ID},path=${optEscape(socketPath)},server=on,wait=off`, '-mon', `chardev=${QMP_CHARDEV_ID},mode=control`]);
}

export function removeQmpMonitor(domain: XmlElement): void {
  const p = Object.entries(domain.attrs).find(([k, v]) => v === QEMU_NS && k.startsWith('xmlns:'))?.[0].slice(6);
  const cl = p ? child(domain, `${p}:commandline`) : undefined;
  if (!cl || !p) return;
  let values = argValues(cl, p);
  values = dropPairs(values, '-chardev', (v) => v.startsWith(`socket,id=${QMP_CHARDEV_ID},`));
  values = dropPairs(values, '-mon', (v) => v === `chardev=${QMP_CHARDEV_ID},mode=control`);
  setArgs(cl, p, values);
  if (cl.children.every((c) => !('name' in c))) removeChildren(domain, (e) => e === cl);
}

/** For spawn on a shared-mode host: the domain's RAM becomes a shared file at `ramPath` (tmpfs). */
export function makeSharedTemplate(domain: XmlElement, ramPath: string): void {
  if (!findPath(domain, ['memory'])) throw new InvalidArgumentError('domain XML', 'no <memory>', 'a domain with <memory>');
  setRamBackend(domain, { kind: 'file', path: ramPath, share: true });
  useFeatureWordsCpuReadback(domain);
}

export const CPU_PROPERTY_SCAN_CAPABILITY = 'cpu-unavailable-features';

/**
 * After every start, libvirt 9 with QEMU >= 4.1 reads the guest CPU back with one qom-get per CPU
 * property: about 400 monitor round trips, 100-250 ms of a 350 ms clone restore under TCG. For x86 the
 * older 'feature-words' readback, which libvirt uses when QEMU lacks the capability below, yields the
 * same enabled/disabled feature sets in a handful of calls. So VMS domains (templates and clones) mask
 * that one probed capability. libvirt taints such a domain 'custom-hypervisor-feature'; VMS domains
 * already carry 'custom-argv' for their RAM backend.
 */
export function useFeatureWordsCpuReadback(domain: XmlElement): void {
  const p = qemuPrefix(domain);
  let caps = child(domain, `${p}:capabilities`);
  if (!caps) {
    caps = el(`${p}:capabilities`);
    domain.children.push(caps);
  }
  if (elements(caps, `${p}:del`).some((d) => d.attrs.capability === CPU_PROPERTY_SCAN_CAPABILITY)) return;
  caps.children.push(el(`${p}:del`, { capability: CPU_PROPERTY_SCAN_CAPABILITY }));
}
