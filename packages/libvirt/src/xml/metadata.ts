import type { Flavor } from '@virtplug/core';
import { child, el, elements, ensureChild, isElement, removeChildren, textOf, type XmlElement } from './tree.js';

/** Our namespace in `<metadata>`; libvirt keys its per-application metadata by namespace URI. */
export const VIRTPLUG_NS = 'https://virtplug.dev/xmlns/libvirt/1';
export const VIRTPLUG_PREFIX = 'virtplug';

/**
 * What virtplug records inside a domain. Its presence marks the domain as managed by virtplug.
 * `extra` holds free key/values (instance metadata, and whatever packages above the driver store,
 * e.g. VM streaming); other child elements we do not know are preserved as they are.
 */
export interface VirtplugMetadata {
  flavor?: Flavor;
  image?: { id: string; name: string; diskFormat?: string };
  /** Set while the instance runs its rescue image. */
  rescued?: boolean;
  createdAt?: string;
  extra: Record<string, string>;
}

/** The `<virtplug:instance>` element inside `<metadata>`, whatever prefix the XML gave our namespace. */
export function findMetadataElement(domain: XmlElement): { element: XmlElement; prefix: string } | undefined {
  const metadata = child(domain, 'metadata');
  if (!metadata) return undefined;
  for (const e of elements(metadata)) {
    for (const [attr, value] of Object.entries(e.attrs)) {
      if (value !== VIRTPLUG_NS) continue;
      const prefix = attr === 'xmlns' ? '' : attr.startsWith('xmlns:') ? attr.slice(6) : undefined;
      if (prefix === undefined) continue;
      if (e.name === (prefix ? `${prefix}:instance` : 'instance')) return { element: e, prefix };
    }
  }
  return undefined;
}

export function readMetadata(domain: XmlElement): VirtplugMetadata | undefined {
  const found = findMetadataElement(domain);
  if (!found) return undefined;
  const { element, prefix } = found;
  const q = (n: string) => (prefix ? `${prefix}:${n}` : n);
  const out: VirtplugMetadata = { extra: {} };
  const f = child(element, q('flavor'));
  if (f) {
    const specs: Record<string, string> = {};
    for (const s of elements(f, q('spec'))) if (s.attrs.key !== undefined) specs[s.attrs.key] = textOf(s) ?? '';
    out.flavor = {
      name: f.attrs.name ?? '',
      memoryMb: Number(f.attrs.memory_mb ?? 0),
      vcpus: Number(f.attrs.vcpus ?? 0),
      rootGb: Number(f.attrs.root_gb ?? 0),
      ...(f.attrs.ephemeral_gb !== undefined ? { ephemeralGb: Number(f.attrs.ephemeral_gb) } : {}),
      ...(Object.keys(specs).length ? { extraSpecs: specs } : {}),
    };
  }
  const i = child(element, q('image'));
  if (i) out.image = { id: i.attrs.id ?? '', name: i.attrs.name ?? '', ...(i.attrs.disk_format ? { diskFormat: i.attrs.disk_format } : {}) };
  const r = child(element, q('rescue'));
  if (r) out.rescued = r.attrs.state === 'rescued';
  const c = child(element, q('created'));
  if (c?.attrs.at) out.createdAt = c.attrs.at;
  for (const m of elements(element, q('meta'))) if (m.attrs.key !== undefined) out.extra[m.attrs.key] = textOf(m) ?? '';
  return out;
}

export interface MetadataPatch {
  flavor?: Flavor;
  image?: VirtplugMetadata['image'];
  rescued?: boolean;
  createdAt?: string;
  /** Keys to set; a `null` value removes the key. */
  extra?: Record<string, string | null>;
}

/**
 * Applies a patch in place, creating `<metadata>` and our element as needed (which marks the domain as
 * managed). Children the patch does not name are left exactly as they were.
 */
export function applyMetadata(domain: XmlElement, patch: MetadataPatch): void {
  let found = findMetadataElement(domain);
  if (!found) {
    const metadata = ensureChild(domain, 'metadata', 'uuid');
    const element = el(`${VIRTPLUG_PREFIX}:instance`, { [`xmlns:${VIRTPLUG_PREFIX}`]: VIRTPLUG_NS });
    metadata.children.push(element);
    found = { element, prefix: VIRTPLUG_PREFIX };
  }
  const { element, prefix } = found;
  const q = (n: string) => (prefix ? `${prefix}:${n}` : n);
  const replace = (name: string, node: XmlElement | null) => {
    const idx = element.children.findIndex((c) => isElement(c) && c.name === q(name));
    removeChildren(element, (e) => e.name === q(name));
    if (node) element.children.splice(idx >= 0 ? idx : element.children.length, 0, node);
  };
  if (patch.flavor) {
    const fl = patch.flavor;
    const specs = Object.entries(fl.extraSpecs ?? {}).map(([k, v]) => el(q('spec'), { key: k }, v));
    replace('flavor', el(q('flavor'), { name: fl.name, memory_mb: fl.memoryMb, vcpus: fl.vcpus, root_gb: fl.rootGb, ephemeral_gb: fl.ephemeralGb }, ...specs));
  }
  if (patch.image) replace('image', el(q('image'), { id: patch.image.id, name: patch.image.name, disk_format: patch.image.diskFormat }));
  if (patch.rescued !== undefined) replace('rescue', patch.rescued ? el(q('rescue'), { state: 'rescued' }) : null);
  if (patch.createdAt) replace('created', el(q('created'), { at: patch.createdAt }));
  for (const [key, value] of Object.entries(patch.extra ?? {})) {
    const existing = elements(element, q('meta')).find((m) => m.attrs.key === key);
    if (value === null) removeChildren(element, (e) => e === existing);
    else if (existing) existing.children = [{ text: value }];
    else element.children.push(el(q('meta'), { key }, value));
  }
}

/** The inner XML of our element, as `virsh metadata --set` wants it (libvirt re-adds the namespace). */
export function metadataFragment(domain: XmlElement): XmlElement | undefined {
  return findMetadataElement(domain)?.element;
}
