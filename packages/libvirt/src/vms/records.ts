import { readdirSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '@virtplug/core';
import { el, escapeXml, type XmlElement } from '../xml/tree.js';
import type { VmsLayout } from './layout.js';
import { isUuid } from './names.js';
import type { Owner } from './owner.js';

/** Our namespace in libvirt `<metadata>`: separate from the driver's, so each is written atomically. */
export const VMS_NS = 'https://virtplug.dev/xmlns/vms/1';
export const VMS_KEY = 'vms';

export type VmsMode = 'shared' | 'copy';
export type BlessedStatus = 'blessing' | 'blessed' | 'discarding' | 'discarded';

export interface BlessedDisk {
  target: string;
  /** The frozen copy (top layer) of the source's disk; clones put their overlay on it. */
  path: string;
  format: string;
  /** What `path` itself backs on (kept by reference, never copied). */
  backing?: string;
  /**
   * An empty qcow2 overlay on `path`, made once at bless. A clone's overlay is a byte copy of it (the
   * backing path inside is absolute), which saves a `qemu-img create` process on every launch.
   * Images blessed before it existed have none; their clones get `qemu-img create`.
   */
  overlayTemplate?: string;
}

/**
 * A live image. The manifest is the record (next to the artifacts, written atomically); libvirt holds
 * the rest: the source's `last_clone_num` and each clone's `launched_from` in `<metadata>`.
 */
export interface BlessedManifest {
  schema: 'virtplug.vms/1';
  id: string;
  name: string;
  blessedFrom: string;
  blessedFromName: string;
  mode: VmsMode;
  status: BlessedStatus;
  createdAt: string;
  /** Set while blessing or discarding: who, so gc can tell a crashed run from a running one. */
  owner?: Owner;
  /** Set while the source is paused by this bless (gc resumes it if the owner died). */
  pausedSource?: boolean;
  pauseMs?: number;
  memoryBytes: number;
  artifacts: { state: string; ram?: string; disks: BlessedDisk[] };
  /** The domain XML saved with the image (the template's machine); clones are rewritten from it. */
  xml: string;
  /** Clone counter for default names, and every clone ever launched (existence is checked in libvirt). */
  lastLaunchNum: number;
  clones: string[];
  /** Clones gc-migrated to another host: discard asks that host before it removes anything. */
  migratedClones?: Array<{ uuid: string; destUri: string }>;
  /** Host-side machine of the image (for MemoryImages restore checks). */
  qemuVersion?: string;
}

export class ManifestStore {
  constructor(private readonly layout: VmsLayout) {}

  read(id: string): BlessedManifest | null {
    if (!isUuid(id)) return null;
    try {
      const m = JSON.parse(readFileSync(this.layout.manifest(id), 'utf8')) as BlessedManifest;
      return m.schema === 'virtplug.vms/1' && m.id === id ? m : null;
    } catch {
      return null;
    }
  }

  /** Atomic (write + rename) and private: the saved XML may hold a VNC password. */
  write(m: BlessedManifest): void {
    writeJsonAtomic(this.layout.manifest(m.id), m);
  }

  update(id: string, patch: (m: BlessedManifest) => void): BlessedManifest {
    const m = this.read(id);
    if (!m) throw new Error(`live image ${id} has no manifest`);
    patch(m);
    this.write(m);
    return m;
  }

  /** Ids of every directory under the VMS root (including ones without a readable manifest). */
  ids(): string[] {
    try {
      return readdirSync(this.layout.paths.root).filter(isUuid);
    } catch {
      return [];
    }
  }

  all(): BlessedManifest[] {
    return this.ids()
      .map((id) => this.read(id))
      .filter((m): m is BlessedManifest => m !== null);
  }
}

/** What a clone carries in its domain `<metadata>`. */
export interface CloneMetadata {
  launchedFrom: string;
  blessedFrom: string;
  mode: VmsMode;
  status: 'launching' | 'active';
  createdAt: string;
  owner?: Owner;
}

/** What a source carries: the counter for `<name>-<n>` blessed names. */
export interface SourceMetadata {
  lastCloneNum: number;
}

export function cloneMetadataElement(m: CloneMetadata): XmlElement {
  return el(`${VMS_KEY}:clone`, {
    [`xmlns:${VMS_KEY}`]: VMS_NS,
    launched_from: m.launchedFrom,
    blessed_from: m.blessedFrom,
    mode: m.mode,
    status: m.status,
    created_at: m.createdAt,
    ...(m.owner ? { owner_pid: m.owner.pid, owner_start: m.owner.start } : {}),
  });
}

/** The `--set` argument of `virsh metadata` (libvirt adds the namespace from --uri/--key). */
export function cloneMetadataXml(m: CloneMetadata): string {
  const a = (k: string, v: string) => ` ${k}='${escapeXml(v)}'`;
  return `<clone${a('launched_from', m.launchedFrom)}${a('blessed_from', m.blessedFrom)}${a('mode', m.mode)}${a('status', m.status)}${a('created_at', m.createdAt)}/>`;
}

export function sourceMetadataXml(m: SourceMetadata): string {
  return `<source last_clone_num='${m.lastCloneNum}'/>`;
}

/** Parses what `virsh metadata DOM URI` prints (our element, whatever prefix libvirt gave it). */
export function parseVmsMetadata(xml: string): { clone?: CloneMetadata; source?: SourceMetadata } {
  const attrs = (tag: string): Record<string, string> | null => {
    const m = new RegExp(`<(?:[\\w-]+:)?${tag}\\b([^>]*)/?>`).exec(xml);
    if (!m) return null;
    const out: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w:-]+)=(?:'([^']*)'|"([^"]*)")/g)) out[a[1]!] = unescape(a[2] ?? a[3] ?? '');
    return out;
  };
  const c = attrs('clone');
  const s = attrs('source');
  return {
    ...(c && c.launched_from
      ? {
          clone: {
            launchedFrom: c.launched_from,
            blessedFrom: c.blessed_from ?? '',
            mode: (c.mode === 'copy' ? 'copy' : 'shared') as VmsMode,
            status: (c.status === 'launching' ? 'launching' : 'active') as CloneMetadata['status'],
            createdAt: c.created_at ?? '',
            ...(c.owner_pid ? { owner: { pid: Number(c.owner_pid), start: c.owner_start ?? '' } } : {}),
          },
        }
      : {}),
    ...(s ? { source: { lastCloneNum: Number(s.last_clone_num ?? 0) || 0 } } : {}),
  };
}

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}
