import { rm, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, InvalidStateError, NotFoundError, type MachineSignature } from '@virtplug/core';
import { signatureMismatch } from '../base/manifest.js';
import type { BaseRecord, BaseStore } from '../base/store.js';
import type { QemuImg } from '../disk/qemu-img.js';
import type { ParsedHeader } from '../overlay/container.js';
import { machineFromManifest, type OverlayManifest } from '../overlay/manifest.js';
import type { CompressionPool } from '../overlay/pool.js';
import type { WorkDir } from '../util/workdir.js';
import { buildDisk } from './build-disk.js';
import { readOverlay } from './read-overlay.js';
import { Rebuilder } from './rebuild.js';

export interface RebuildProgress {
  phase: 'fetch' | 'disk';
  done: number;
  total: number;
}

export interface RebuildInput {
  stream: AsyncIterable<Buffer | Uint8Array | string>;
  sourceBytes?: number;
  store: BaseStore;
  pool: CompressionPool;
  qemu: QemuImg;
  work: WorkDir;
  /** When given, the overlay must be for this base. */
  expectBase?: string;
  /** This host's signature; an overlay captured elsewhere is refused before any payload is read. */
  host?: MachineSignature;
  /** Where the rebuilt RAM image goes (default: the work dir); tmpfs lets the driver take it over by rename. */
  ramPath?: string;
  onProgress?: (p: RebuildProgress) => void;
}

export interface Rebuilt {
  /** Milliseconds from the start: manifest read, disk items applied, disk built, all applied. */
  timings: { header_ms: number; disk_applied_ms: number; disk_built_ms: number; applied_ms: number; total_ms: number };
  header: ParsedHeader;
  manifest: OverlayManifest;
  base: BaseRecord;
  ramPath: string;
  statePath: string;
  diskPath: string;
}

async function resolveBase(store: BaseStore, m: OverlayManifest, expect?: string): Promise<BaseRecord> {
  if (expect && !m.base_id.startsWith(expect)) {
    throw new InvalidArgumentError('overlay base', m.base_id, `base ${expect} (the base this synthesis was asked to use); the overlay was made from a different base VM`);
  }
  if (!(await store.has(m.base_id))) {
    const have = (await store.list()).map((b) => b.id);
    throw new NotFoundError(
      'cloudlet base',
      m.base_id,
      `the overlay needs base ${m.base_id} but this cloudlet has ${have.length ? have.join(', ') : 'no bases'}; import the right base first`,
    );
  }
  return store.get(m.base_id);
}

/**
 * A rebuild that may take several overlays in turn (a handoff's pre-copy round, then the final
 * residue of what changed since): each stream is fetched → verified → decompressed (workers) →
 * applied, pipelined, onto the same RAM image and disk delta. `final` marks the last one: its disk
 * part is turned into qcow2 as soon as its last disk blob is applied, while memory still streams.
 */
export class StagedRebuild {
  private rebuilder: Rebuilder | null = null;
  private base: BaseRecord | null = null;
  private first: OverlayManifest | null = null;
  private lastSha: string | null = null;
  private diskBuild: Promise<void> | null = null;
  private readonly t0 = performance.now();
  private readonly t = { header_ms: 0, disk_applied_ms: 0, disk_built_ms: 0, applied_ms: 0, total_ms: 0 };
  readonly statePath: string;
  readonly ramPath: string;
  private readonly deltaPath: string;
  private readonly diskPath: string;

  constructor(private readonly input: Omit<RebuildInput, 'stream' | 'sourceBytes' | 'onProgress'>) {
    this.statePath = input.work.file('state.bin');
    this.ramPath = input.ramPath ?? input.work.file('memory.ram');
    this.deltaPath = input.work.file('disk-delta.raw');
    this.diskPath = input.work.file('disk.qcow2');
  }

  /** The overall SHA-256 of the last overlay applied (what a follow-up residue names as parent). */
  get appliedSha256(): string | null {
    return this.lastSha;
  }

  private startDiskBuild(r: Rebuilder, b: BaseRecord): void {
    this.t.disk_applied_ms = performance.now() - this.t0;
    this.diskBuild = r.flushDisk().then(async () => {
      await buildDisk(this.input.qemu, this.deltaPath, r.zeroRanges, b.diskPath, this.diskPath);
      this.t.disk_built_ms = performance.now() - this.t0;
    });
    this.diskBuild.catch(() => undefined);
  }

  private async onHeader(h: ParsedHeader, final: boolean): Promise<{ lastDiskBlob: number }> {
    const m = h.manifest;
    const { input } = this;
    if (!this.first) {
      const base = await resolveBase(input.store, m, input.expectBase);
      if (input.host) {
        const diff = signatureMismatch(machineFromManifest(m.machine), input.host);
        if (diff) throw new InvalidStateError(`The overlay was captured on an incompatible machine and cannot be restored here: ${diff}.`, { base: m.base_id });
      }
      if (m.parent_sha256) throw new InvalidArgumentError('overlay parent', m.parent_sha256, 'no parent (this is the first overlay of the rebuild)');
      this.base = base;
      this.rebuilder = new Rebuilder(
        {
          baseRam: base.ramPath,
          baseRamBytes: base.manifest.memory.bytes,
          baseDisk: base.diskPath,
          baseDiskBytes: base.manifest.disk.bytes,
          ram: this.ramPath,
          ramBytes: m.memory_bytes,
          diskDelta: this.deltaPath,
          diskBytes: m.disk_bytes,
        },
        (src, dest) => input.qemu.copySparse(src, dest),
      );
      await this.rebuilder.open();
      this.first = m;
      this.t.header_ms = performance.now() - this.t0;
    } else {
      const f = this.first;
      if (m.parent_sha256 !== this.lastSha) throw new InvalidArgumentError('follow-up overlay parent', m.parent_sha256 ?? '(none)', `${this.lastSha} (the overlay applied before it)`);
      if (m.base_id !== f.base_id || m.memory_bytes !== f.memory_bytes || m.disk_bytes !== f.disk_bytes) {
        throw new InvalidArgumentError('follow-up overlay', `base ${m.base_id}, ${m.memory_bytes}+${m.disk_bytes} bytes`, `base ${f.base_id} with ${f.memory_bytes}+${f.disk_bytes} bytes, as the first overlay`);
      }
    }
    let lastDiskBlob = -1;
    m.blobs.forEach((b, i) => {
      if (b.disk_runs.length) lastDiskBlob = i;
    });
    if (final && lastDiskBlob < 0) this.startDiskBuild(this.rebuilder!, this.base!);
    return { lastDiskBlob };
  }

  /** Applies one overlay stream; throws (and leaves the caller to abort) on anything refused. */
  async apply(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: { sourceBytes?: number; final: boolean; onProgress?: (p: RebuildProgress) => void }): Promise<ParsedHeader> {
    const { pool } = this.input;
    let applied: Promise<void> = Promise.resolve();
    const inflight: Array<Promise<void>> = [];
    let done = 0;
    let total = 0;
    let lastDiskBlob = -1;
    try {
      const header = await readOverlay(stream, {
        sourceBytes: opts.sourceBytes,
        onHeader: async (h) => {
          lastDiskBlob = (await this.onHeader(h, opts.final)).lastDiskBlob;
          total = h.totalBytes;
          done = h.payloadOffset;
        },
        onSection: async (s) => {
          if (inflight.length) await Promise.race([inflight[0], Promise.resolve()]);
          done += s.data.length;
          opts.onProgress?.({ phase: 'fetch', done, total });
          if (s.kind === 'state') {
            const raw = await pool.decompress(s.entry.compression, s.data, s.entry.raw_size);
            await writeFile(this.statePath, raw);
            return;
          }
          const r = this.rebuilder!;
          const decompressed = pool.decompress(s.entry.compression, s.data, s.entry.raw_size);
          decompressed.catch(() => undefined);
          // Applies stay in order; decompression of later blobs overlaps with them.
          const step = applied.then(async () => {
            await r.apply(s.index, s.entry, await decompressed);
            if (opts.final && s.index === lastDiskBlob) this.startDiskBuild(r, this.base!);
          });
          // Marked handled here; the error still surfaces where the step is awaited.
          step.catch(() => undefined);
          applied = step;
          inflight.push(step);
          while (inflight.length > pool.size * 2) await inflight.shift();
        },
      });
      await applied;
      this.lastSha = header.manifest.overlay_sha256;
      if (opts.final) opts.onProgress?.({ phase: 'disk', done: total, total });
      return header;
    } catch (e) {
      await applied.catch(() => undefined);
      throw e;
    }
  }

  /** After the final apply: closes the outputs and waits for the qcow2. */
  async finish(): Promise<Omit<Rebuilt, 'header'>> {
    const r = this.rebuilder;
    if (!r || !this.base || !this.first) throw new InvalidStateError('nothing was applied to this rebuild');
    this.t.applied_ms = performance.now() - this.t0;
    await r.close();
    this.rebuilder = null;
    if (!this.diskBuild) this.startDiskBuild(r, this.base);
    await this.diskBuild;
    await rm(this.deltaPath, { force: true });
    this.t.total_ms = performance.now() - this.t0;
    return { timings: this.t, manifest: this.first, base: this.base, ramPath: this.ramPath, statePath: this.statePath, diskPath: this.diskPath };
  }

  /** Releases everything open; the caller removes the work dir and RAM file. */
  async abort(): Promise<void> {
    await this.diskBuild?.catch(() => undefined);
    await this.rebuilder?.close().catch(() => undefined);
    this.rebuilder = null;
  }
}

/** The single-overlay rebuild of a synthesis. */
export async function rebuildFromStream(input: RebuildInput): Promise<Rebuilt> {
  const staged = new StagedRebuild(input);
  try {
    const header = await staged.apply(input.stream, { sourceBytes: input.sourceBytes, final: true, onProgress: input.onProgress });
    return { header, ...(await staged.finish()) };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
