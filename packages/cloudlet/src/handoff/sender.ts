import type { InstanceRef, MemoryImage } from '@virtplug/core';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '@virtplug/core';
import type { Cloudlet } from '../cloudlet.js';
import { signatureMismatch } from '../base/manifest.js';
import type { BaseRecord } from '../base/store.js';
import type { OverlayReference } from '../overlay/create.js';
import type { OverlayStats } from '../overlay/manifest.js';
import { redactUrl } from '../synthesis/source.js';
import type { WorkDir } from '../util/workdir.js';
import { cancelSession, commitResidue, hello, prepareResidue, sendResidue, type Destination } from './client.js';
import type { AcceptReply } from './protocol.js';

export interface HandoffOptions {
  /** The destination receiver, e.g. http://10.77.0.2:8022 */
  url: string;
  token: string;
  /** PEM CA bundle trusted for an https destination (default: the cloudlet's [cloudlet] tls_ca_file, else the system's). */
  ca?: string;
  /** Name at the destination; default: the same name. */
  name?: string;
  baseId?: string;
  /**
   * Default true (when the destination speaks v2): send a residue of a capture taken while the VM
   * still runs, then, paused, only what changed since. Shortens the downtime.
   */
  precopy?: boolean;
  onProgress?: (p: { phase: 'check' | 'precopy' | 'capture' | 'pause' | 'residue' | 'transfer' | 'destroy'; done: number; total: number }) => void;
}

function destinationOf(opts: HandoffOptions): Destination {
  return { base: opts.url, token: opts.token, ...(opts.ca ? { ca: opts.ca } : {}) };
}

export interface HandoffResult {
  destination: AcceptReply;
  /** Bytes sent: the pre-copy residue (0 without) and the final one. */
  precopy_bytes: number;
  residue_bytes: number;
  stats: OverlayStats;
  timings: { total_ms: number; downtime_ms: number; precopy_ms: number; capture_ms: number; residue_ms: number; transfer_and_launch_ms: number };
}

interface Precopied {
  session: string;
  reference: OverlayReference;
  bytes: number;
  work: WorkDir;
}

/** Round one, while the guest runs: capture, residue against the base, destination rebuilds it. */
async function precopy(cloudlet: Cloudlet, instance: InstanceRef, base: BaseRecord, opts: HandoffOptions): Promise<Precopied> {
  const work = await cloudlet.captureWork('handoff-pre');
  try {
    const image: MemoryImage = await cloudlet.driver.memoryImages.capture(instance, work.file('image'));
    const residue = await cloudlet.overlayFromImage(base, image, {
      dest: work.file('residue.vpo'),
      kind: 'residue',
      compression: cloudlet.settings.handoff_compression,
      level: cloudlet.settings.handoff_level,
    });
    // The final round compares with this capture's disk as the guest saw it.
    const diskRaw = work.file('disk.raw');
    await cloudlet.qemu.convert(image.diskPath, image.diskFormat, diskRaw, 'raw');
    const prep = await prepareResidue(destinationOf(opts), residue.path, { name: opts.name ?? instance.name, baseId: base.id });
    return {
      session: prep.session,
      reference: { ramPath: image.ramPath, ramBytes: image.ramBytes, diskRaw, diskBytes: residue.manifest.disk_bytes, parentSha256: residue.manifest.overlay_sha256 },
      bytes: residue.bytes,
      work,
    };
  } catch (e) {
    await work.remove();
    throw e;
  }
}

/**
 * VM handoff: check the destination (token, base, machine) while the source runs; pre-copy a residue
 * while it still runs; then capture (the driver pauses for the cut), pause, and send only what
 * changed since. The destination answers once its instance runs and its agent answered; only then
 * is the source destroyed. Any failure after the pause resumes the source, so a refused handoff
 * changes nothing.
 */
export async function handoff(cloudlet: Cloudlet, instance: InstanceRef, opts: HandoffOptions): Promise<HandoffResult> {
  const t0 = performance.now();
  const tick = (phase: Parameters<NonNullable<HandoffOptions['onProgress']>>[0]['phase']) => opts.onProgress?.({ phase, done: 0, total: 1 });
  tick('check');
  if (!opts.token) throw new InvalidArgumentError('handoff token', '(empty)', 'the token the destination handoff-recv was started with');
  const base = await cloudlet.baseOf(instance, opts.baseId);
  const driver = cloudlet.driver;
  const dest = await hello(destinationOf(opts));
  if (!dest.bases.includes(base.id)) {
    throw new NotFoundError('cloudlet base at the handoff destination', base.id, `${redactUrl(opts.url)} has ${dest.bases.length ? dest.bases.join(', ') : 'no bases'}; import the base there first`);
  }
  const diff = signatureMismatch(base.manifest.machine, dest.machine);
  if (diff) throw new InvalidStateError(`Handoff destination ${redactUrl(opts.url)} cannot restore this VM: ${diff}.`);
  // Everything that does not need the cut happens before it: the base's hash indexes load now.
  await cloudlet.hashIndexes(base);
  let pre: Precopied | null = null;
  if (opts.precopy !== false && dest.version >= 2) {
    tick('precopy');
    pre = await precopy(cloudlet, instance, base, opts);
  }
  const tPre = performance.now();
  const cap = await cloudlet.captureWork('handoff');
  let paused = false;
  let committed = false;
  tick('capture');
  // Downtime starts with the capture's pause, which lasts: the guest must not run on here past the
  // cut that the destination resumes from.
  const tPause = performance.now();
  try {
    const image = await driver.memoryImages.capture(instance, cap.file('image'), { keepPaused: true });
    paused = true;
    tick('pause');
    const tCap = performance.now();
    tick('residue');
    const residue = await cloudlet.overlayFromImage(base, image, {
      dest: cap.file('residue.vpo'),
      kind: 'residue',
      compression: cloudlet.settings.handoff_compression,
      level: cloudlet.settings.handoff_level,
      ...(pre ? { reference: pre.reference } : {}),
    });
    const tRes = performance.now();
    tick('transfer');
    const reply = pre
      ? await commitResidue(destinationOf(opts), pre.session, residue.path)
      : await sendResidue(destinationOf(opts), residue.path, { name: opts.name ?? instance.name, baseId: base.id });
    committed = true;
    const tDone = performance.now();
    tick('destroy');
    paused = false;
    await cloudlet.destroyInstance(instance);
    return {
      destination: reply,
      precopy_bytes: pre?.bytes ?? 0,
      residue_bytes: residue.bytes,
      stats: residue.manifest.stats,
      timings: {
        total_ms: performance.now() - t0,
        downtime_ms: tDone - tPause,
        precopy_ms: tPre - t0,
        capture_ms: tCap - tPause,
        residue_ms: tRes - tCap,
        transfer_and_launch_ms: tDone - tRes,
      },
    };
  } finally {
    if (pre && !committed) await cancelSession(destinationOf(opts), pre.session);
    if (paused) await driver.unpause(instance).catch(() => undefined);
    await cap.remove();
    await pre?.work.remove();
  }
}
