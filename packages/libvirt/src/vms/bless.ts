import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { InvalidArgumentError, InvalidStateError } from '@virtplug/core';
import { DomainState } from '../transport/port.js';
import { parseXml } from '../xml/tree.js';
import { validateDomainName, MAX_NAME_LENGTH } from '../xml/names.js';
import { sharedWritableDisks, writableFileDisks } from './clone-xml.js';
import type { VmsContext } from './context.js';
import { domainState, findDomain, notFound, readVmsMetadata, writeVmsMetadata } from './domains.js';
import { FileLock } from './locks.js';
import { currentOwner } from './owner.js';
import { readRamBackend, memoryBytes } from './shared-ram.js';
import { readSaveImageHead } from './save-image.js';
import { sourceMetadataXml, type BlessedDisk, type BlessedManifest, type VmsMode } from './records.js';
import { diskTargets, pauseAndCapture } from './capture.js';

export interface BlessRequest {
  name?: string;
  mode?: VmsMode;
  onProgress?: (fraction: number) => void;
}

/**
 * bless: a live image of a running instance, which keeps running. The source is paused only for the
 * device-state save (shared mode: RAM is not in it) and the copies of its RAM file and top disk
 * layer; it is resumed in a `finally`, and by a guard process if this one is killed meanwhile.
 */
export async function bless(ctx: VmsContext, sourceId: string, req: BlessRequest = {}): Promise<BlessedManifest> {
  if (ctx.manifests.read(sourceId)) throw new InvalidStateError(`Instance ${sourceId} is already a live image.`, { id: sourceId });
  const dom = await findDomain(ctx, sourceId);
  if (!dom) throw notFound(sourceId);
  if ((await domainState(ctx, dom.uuid)) !== DomainState.RUNNING) {
    throw new InvalidStateError(`Instance ${dom.uuid} is not active. Cannot create a live image from a non-active instance.`, { id: dom.uuid });
  }
  if (req.name !== undefined) validateDomainName(req.name);
  const lock = await FileLock.acquire(ctx.layout.lock(dom.uuid), 'bless', `Instance ${dom.uuid}`);
  try {
    return await blessLocked(ctx, dom.uuid, dom.name, req);
  } finally {
    lock.release();
  }
}

async function blessLocked(ctx: VmsContext, uuid: string, sourceName: string, req: BlessRequest): Promise<BlessedManifest> {
  const tree = parseXml(await ctx.transport.getXml(uuid, { secure: true }));
  const volumes = sharedWritableDisks(tree);
  if (volumes.length) {
    throw new InvalidStateError(`Instance ${uuid} has writable volumes attached (${volumes.join(', ')}) that its clones would share; detach them before blessing.`, { id: uuid, volumes });
  }
  const ram = readRamBackend(tree);
  const shareable = ram?.kind === 'file' && ram.share;
  const wanted = req.mode ?? ctx.mode;
  if (req.mode === 'shared' && !shareable) {
    throw new InvalidStateError(
      `Instance ${uuid} does not run on a shared RAM file, so it cannot be blessed in shared mode; start it on a host with [libvirt] vms_mode = shared, or bless it with mode 'copy'.`,
    );
  }
  const mode: VmsMode = wanted === 'shared' && shareable ? 'shared' : 'copy';
  if (wanted === 'shared' && mode === 'copy') {
    ctx.logger.info({ instance: uuid }, 'source RAM is not a shared file (a clone, or started without VMS shared memory): blessing in copy mode');
  }

  const meta = await readVmsMetadata(ctx, uuid);
  const n = (meta.source?.lastCloneNum ?? 0) + 1;
  await writeVmsMetadata(ctx, uuid, sourceMetadataXml({ lastCloneNum: n }));
  const name = req.name ?? `${sourceName.slice(0, MAX_NAME_LENGTH - String(n).length - 1)}-${n}`;
  validateDomainName(name);

  const id = randomUUID();
  const disks = writableFileDisks(tree);
  // Backing paths are resolved before the pause, so only copies happen while the source is stopped.
  const blessedDisks: BlessedDisk[] = [];
  for (const d of disks) {
    const info = await ctx.qemuImg.info(d.path);
    if (info.backingFile && !isAbsolute(info.backingFile)) {
      throw new InvalidArgumentError(`backing file of ${d.path}`, info.backingFile, 'an absolute path (a copied overlay must still find its backing file)');
    }
    blessedDisks.push({ target: d.target, path: ctx.layout.blessedDisk(id, d.target), format: info.format, ...(info.backingFile ? { backing: info.backingFile } : {}) });
  }
  const manifest: BlessedManifest = {
    schema: 'virtplug.vms/1',
    id,
    name,
    blessedFrom: uuid,
    blessedFromName: sourceName,
    mode,
    status: 'blessing',
    createdAt: new Date().toISOString(),
    owner: currentOwner(),
    memoryBytes: memoryBytes(tree),
    artifacts: { state: ctx.layout.stateImage(id), ...(mode === 'shared' ? { ram: ctx.layout.blessedRam(id) } : {}), disks: blessedDisks },
    xml: '',
    lastLaunchNum: 0,
    clones: [],
  };
  await mkdir(ctx.layout.blessedDir(id), { recursive: true, mode: 0o700 });
  if (mode === 'shared') await mkdir(ctx.layout.paths.ramDir, { recursive: true, mode: 0o700 });
  ctx.manifests.write(manifest);

  try {
    manifest.pauseMs = await pauseAndCapture(ctx, uuid, {
      state: manifest.artifacts.state,
      snapshotName: `vms-${id}`,
      diskTargets: diskTargets(tree),
      disks: disks.map((d) => ({ src: d.path, dst: ctx.layout.blessedDisk(id, d.target) })),
      ...(mode === 'shared' && ram?.kind === 'file' ? { ram: { src: ram.path, dst: manifest.artifacts.ram! } } : {}),
      onPausing: () => {
        manifest.pausedSource = true;
        ctx.manifests.write(manifest);
      },
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
    // After the pause: the source does not wait for these.
    await Promise.all(
      blessedDisks.map(async (d) => {
        const template = ctx.layout.overlayTemplate(id, d.target);
        await ctx.qemuImg.createOverlay(template, d.path, d.format);
        d.overlayTemplate = template;
      }),
    );
    const head = await readSaveImageHead(manifest.artifacts.state);
    manifest.xml = head.xml;
    manifest.qemuVersion = (await ctx.transport.versions()).hypervisorVersion;
    manifest.status = 'blessed';
    delete manifest.owner;
    delete manifest.pausedSource;
    ctx.manifests.write(manifest);
    ctx.logger.info({ id, source: uuid, mode, pauseMs: manifest.pauseMs }, 'blessed');
    return manifest;
  } catch (e) {
    await removeBlessedArtifacts(ctx, manifest);
    throw e;
  }
}

export async function removeBlessedArtifacts(ctx: VmsContext, m: BlessedManifest): Promise<void> {
  if (m.artifacts.ram) await rm(m.artifacts.ram, { force: true });
  await rm(ctx.layout.blessedDir(m.id), { recursive: true, force: true });
}
