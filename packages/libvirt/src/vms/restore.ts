import { createReadStream, createWriteStream, existsSync, openSync, closeSync, constants as fsc } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { OperationFailedError } from '@virtplug/core';
import { buildSaveImageHead, type SaveImageHead } from './save-image.js';
import { IGNORE_SHARED, QmpClient, ignoreSharedState, setIgnoreShared } from './qmp.js';

export interface RestoreCloneOptions {
  /**
   * libvirt's restore of a save-image file (the transport's virDomainRestore). Through the binding it
   * goes out on the already open connection: no virsh process to start and connect, ~15 ms a launch.
   */
  restore: (file: string) => Promise<void>;
  /** libvirt's resume of the restored (paused) clone, once its links are down. */
  resume: () => Promise<void>;
  /** The blessed state image and its parsed head (the stream after `streamOffset` is used as is). */
  stateImage: string;
  head: SaveImageHead;
  /** The clone's XML, written into the new header. */
  xml: string;
  /** The FIFO, once made (made before the caller's XML work: FifoStock, prepareFifo); removed afterwards. */
  fifo: Promise<string>;
  /** Our QMP monitor socket in the clone (the XML declares it). */
  qmpSocket: string;
  /** Shared mode: switch x-ignore-shared on before any of the stream reaches QEMU. */
  ignoreShared: boolean;
  /** QEMU's ids of the clone's NICs (interfaceAliases), set link-down before it runs. */
  nics: string[];
  /**
   * Files the clone's XML names that are still being made (disk overlays). The restore starts at
   * once, and libvirt gets the header only when these exist, so making them overlaps libvirt's work.
   */
  prerequisites?: Promise<unknown>;
  timeoutMs: number;
}

export interface RestoredClone {
  /**
   * Switches x-ignore-shared back off in shared mode (or a later save of this clone, for a bless of a
   * clone or gc-migrate, would carry it and no destination would accept the stream) and closes our
   * monitor. It contends with the just-resumed guest for QEMU's main lock, so callers run it alongside
   * their wait for the guest agent rather than before it.
   */
  settle(): Promise<void>;
}

/**
 * Restores one clone, with every NIC's link down, and resumes it. libvirt reads a save image as:
 * header, XML, then hands the rest to QEMU as its incoming migration stream. We serve that through a
 * FIFO: the clone's header and XML first, then the blessed stream. libvirt starts QEMU as soon as it
 * has the XML, and QEMU then waits on the FIFO. In shared mode that wait is the window in which we
 * switch x-ignore-shared on over our own monitor and read it back; only then does any of the stream
 * flow. So the capability is in place before QEMU parses a byte (no race), and if it cannot be set the
 * launch fails before the guest runs. (QEMU itself would also refuse a stream whose x-ignore-shared
 * differs from its own.) No per-clone copy of the image is ever written.
 *
 * Links: libvirt applies the XML's `<link state='down'/>` before the load, but virtio-net takes its
 * link state from the loaded device state (the template's: up). So the clone is restored paused, its
 * NICs are set down on our monitor, and only then does libvirt resume it: the stale identity never
 * reaches the network, and libvirt's view (down) matches QEMU's until the caller sets the links up.
 */
export async function restoreClone(o: RestoreCloneOptions): Promise<RestoredClone> {
  const fifo = await o.fifo;
  let restoreDone = false;
  const restoring = o.restore(fifo).then(
    () => null,
    (e: unknown) => e,
  );
  restoring.finally(() => (restoreDone = true));
  const monitor: { qmp?: QmpClient } = {};
  try {
    const feeding = feed(o, fifo, () => restoreDone, monitor).then(
      () => null,
      (e: unknown) => e,
    );
    const restoreErr = await restoring;
    // If libvirt failed before it opened the FIFO, our writer is still blocked in open(): release it.
    unblockWriter(fifo);
    const feedErr = await feeding;
    if (feedErr && !(restoreErr && isPipeError(feedErr))) throw feedErr;
    if (restoreErr) throw restoreErr;
    for (const nic of o.nics) await monitor.qmp!.execute('set_link', { name: nic, up: false });
    await o.resume();
  } catch (e) {
    monitor.qmp?.close();
    throw e;
  } finally {
    await rm(fifo, { force: true });
  }
  const qmp = monitor.qmp!;
  return {
    settle: async () => {
      try {
        if (o.ignoreShared) await setIgnoreShared(qmp, false);
      } finally {
        qmp.close();
      }
    },
  };
}

function isPipeError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}

async function feed(o: RestoreCloneOptions, fifo: string, restoreDone: () => boolean, monitor: { qmp?: QmpClient }): Promise<void> {
  // Opening the FIFO for writing blocks until libvirt opens it for reading.
  const out = createWriteStream(fifo, { flags: 'w' });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', reject);
  });
  try {
    await o.prerequisites;
    const head = buildSaveImageHead({ xml: o.xml, cookie: o.head.cookie, wasRunning: false, format: o.head.format });
    await new Promise<void>((resolve, reject) => out.write(head, (e) => (e ? reject(e) : resolve())));
    const qmp = await connectWhenReady(o.qmpSocket, restoreDone, o.timeoutMs);
    monitor.qmp = qmp;
    if (o.ignoreShared) {
      await setIgnoreShared(qmp, true);
      const state = await ignoreSharedState(qmp);
      if (state !== true) {
        throw new OperationFailedError(
          `The clone's QEMU reports ${IGNORE_SHARED} = ${String(state)} after it was switched on; shared-mode launch needs it (QEMU >= 4.1). Use [libvirt] vms_mode = copy on this host.`,
        );
      }
    }
    await pipeline(createReadStream(o.stateImage, { start: o.head.streamOffset }), out);
  } catch (e) {
    // Closing our end makes QEMU see a truncated stream: the restore fails and libvirt cleans it up.
    out.destroy();
    throw e;
  }
}

async function connectWhenReady(path: string, restoreDone: () => boolean, timeoutMs: number): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await whenSocketAppears(path, Math.max(1, deadline - Date.now()), restoreDone, 'libvirt gave up restoring the clone before its QMP socket appeared; see the libvirt error.');
    try {
      return await QmpClient.connect(path, Math.max(1000, deadline - Date.now()));
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

/**
 * Resolves once `path` exists: QEMU creates its chardev sockets early in its start, long before a
 * restored guest runs. Polls briefly (inotify would need the directory watched before libvirt makes
 * it); `gaveUp` ends the wait when the restore it belongs to has failed.
 */
export async function whenSocketAppears(path: string, timeoutMs: number, gaveUp: () => boolean, gaveUpMessage: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (gaveUp()) throw new OperationFailedError(`${gaveUpMessage} (waiting for ${path})`);
    if (Date.now() > deadline) throw new OperationFailedError(`The clone's socket ${path} did not appear within ${timeoutMs} ms.`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** If libvirt failed before opening the FIFO, our writer's open() still blocks: open the read side once. */
function unblockWriter(fifo: string): void {
  try {
    closeSync(openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK));
  } catch {
    // Already gone or already opened: nothing blocks.
  }
}
