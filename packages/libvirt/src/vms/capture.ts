import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OperationFailedError } from '@virtplug/core';
import { child, elements, type XmlElement } from '../xml/tree.js';
import type { VmsContext } from './context.js';
import { IGNORE_SHARED, ignoreSharedCommand } from './qmp.js';
import { UnpauseGuard } from './watchdog.js';

export interface CaptureTarget {
  /** The save image to write (libvirt format: header, XML, QEMU stream). */
  state: string;
  snapshotName: string;
  /** Every disk target of the domain (each gets an explicit `snapshot=no`). */
  diskTargets: string[];
  /** Top layers to copy while paused. */
  disks: Array<{ src: string; dst: string }>;
  /** Shared mode: the template's RAM file to copy while paused (the stream then skips RAM). */
  ram?: { src: string; dst: string };
  /** Called just before the pause, to record it (gc resumes a source a dead process left paused). */
  onPausing?: () => void;
  /** Leave the guest paused after a successful cut (the caller resumes or destroys it). */
  keepPaused?: boolean;
  /** Fraction of the RAM and disk bytes copied so far (polled from the copies' sizes). */
  onProgress?: (fraction: number) => void;
}

/**
 * The consistent cut bless and MemoryImages.capture share: pause, save device state (with RAM in
 * copy mode, without it in shared mode via x-ignore-shared), copy the RAM file and disk top layers,
 * resume. Returns how long the guest was paused. Pausing flushes QEMU's disk caches, so the copied
 * qcow2 files are consistent with the saved device state.
 */
export async function pauseAndCapture(ctx: VmsContext, uuid: string, t: CaptureTarget): Promise<number> {
  const shared = t.ram !== undefined;
  const guard = UnpauseGuard.start(ctx.uri, uuid, shared);
  let paused = false;
  let captured = false;
  let pauseMs = 0;
  try {
    // Explicitly either way: a stream that carries x-ignore-shared is only accepted by a QEMU that
    // has it too, so copy mode must never inherit it from an earlier run.
    await setIgnoreShared(ctx, uuid, shared);
    t.onPausing?.();
    const t0 = performance.now();
    await ctx.transport.suspend(uuid);
    paused = true;
    try {
      // An external memory snapshot of a paused domain: libvirt's save-image writer, no disk
      // snapshotted, and the domain stays paused (and keeps its disks) afterwards.
      await ctx.virsh.run(
        [
          'snapshot-create-as', '--domain', uuid, '--name', t.snapshotName, '--no-metadata',
          '--memspec', `file=${t.state.replace(/,/g, ',,')},snapshot=external`,
          ...t.diskTargets.flatMap((d) => ['--diskspec', `${d.replace(/,/g, ',,')},snapshot=no`]),
        ],
        { subject: { kind: 'Instance', id: uuid }, timeoutMs: ctx.timeouts.restoreMs },
      );
      const copies = [...t.disks, ...(t.ram ? [t.ram] : [])];
      const stop = t.onProgress ? watchCopies(copies, t.onProgress) : undefined;
      try {
        await Promise.all(copies.map((c) => copyFile(ctx, c.src, c.dst)));
      } finally {
        await stop?.();
      }
      t.onProgress?.(1);
      captured = true;
    } finally {
      if (!(captured && t.keepPaused)) {
        await ctx.transport.resume(uuid);
        paused = false;
      }
      pauseMs = Math.round(performance.now() - t0);
    }
    return pauseMs;
  } finally {
    // Paused here means either the caller asked to keep it so, or resume failed (then the guard acts).
    if (paused && !(captured && t.keepPaused)) guard.fireNow();
    else guard.disarm();
    if (shared) await setIgnoreShared(ctx, uuid, false).catch((e: unknown) => ctx.logger.warn({ err: e, instance: uuid }, `could not switch ${IGNORE_SHARED} back off`));
  }
}

/** Every disk needs an explicit `snapshot=no`, or a memory snapshot would snapshot it too. */
export function diskTargets(tree: XmlElement): string[] {
  const devices = child(tree, 'devices');
  return (devices ? elements(devices, 'disk') : [])
    .filter((d) => ['disk', 'lun', undefined].includes(d.attrs.device))
    .map((d) => child(d, 'target')?.attrs.dev ?? '')
    .filter(Boolean);
}

async function setIgnoreShared(ctx: VmsContext, uuid: string, on: boolean): Promise<void> {
  await ctx.transport.qemuMonitorCommand(uuid, ignoreSharedCommand(on));
}

/** cp keeps holes (untouched guest RAM stays unallocated on tmpfs) and reflinks where it can. */
/** Reports how far the copies are, by their destination sizes, until stopped. */
function watchCopies(copies: Array<{ src: string; dst: string }>, report: (fraction: number) => void): () => Promise<void> {
  const size = (p: string) => stat(p).then((s) => s.size, () => 0);
  const total = Promise.all(copies.map((c) => size(c.src))).then((xs) => xs.reduce((a, b) => a + b, 0));
  let best = 0;
  const tick = async () => {
    const [all, done] = await Promise.all([total, Promise.all(copies.map((c) => size(c.dst))).then((xs) => xs.reduce((a, b) => a + b, 0))]);
    // Polls may finish out of order; report only forward movement.
    if (all > 0 && done / all > best) report((best = Math.min(1, done / all)));
  };
  const timer = setInterval(() => void tick(), 200);
  return async () => {
    clearInterval(timer);
    await tick();
  };
}

async function copyFile(ctx: VmsContext, src: string, dst: string): Promise<void> {
  await mkdir(dirname(dst), { recursive: true, mode: 0o700 });
  const r = await ctx.runner.run('cp', ['--sparse=always', '--reflink=auto', '--', src, dst], { timeoutMs: ctx.timeouts.restoreMs });
  if (r.exitCode !== 0) throw new OperationFailedError(`Copying ${src} to ${dst} failed: ${(r.stderr || r.spawnError?.message || '').trim()}`);
}
