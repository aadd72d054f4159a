import xml2js from 'xml2js';
import { InvalidArgumentError } from '@virtplug/core';

/**
 * An order-preserving XML element tree. xml2js's default object form regroups siblings by name
 * (disk, disk, interface instead of disk, interface, disk) and cannot be written back in order, and
 * libvirt cares about device order. So we parse with `explicitChildren + preserveChildrenOrder`
 * into this tree, edit it surgically, and serialize it ourselves. Every element and attribute we do
 * not know survives a read-modify-write untouched; comments are dropped, as libvirt drops them too.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export interface XmlText {
  text: string;
}
export type XmlNode = XmlElement | XmlText;

export const isElement = (n: XmlNode): n is XmlElement => (n as XmlElement).name !== undefined;

interface Xml2jsNode {
  '#name': string;
  $?: Record<string, string>;
  $$?: Xml2jsNode[];
  _?: string;
}

export function parseXml(xml: string): XmlElement {
  let result: Record<string, Xml2jsNode> | undefined;
  let error: Error | undefined;
  xml2js.parseString(
    xml,
    { explicitChildren: true, preserveChildrenOrder: true, charsAsChildren: true, includeWhiteChars: false, explicitRoot: true, async: false, strict: true, trim: false, normalize: false },
    (e: Error | null, r: Record<string, Xml2jsNode>) => {
      error = e ?? undefined;
      result = r;
    },
  );
  if (error || !result) throw new InvalidArgumentError('XML', xml.slice(0, 120), `well-formed XML (${error?.message.split('\n')[0] ?? 'empty document'})`);
  const root = Object.values(result)[0];
  if (!root) throw new InvalidArgumentError('XML', xml.slice(0, 120), 'a document with a root element');
  return convert(root);
}

function convert(n: Xml2jsNode): XmlElement {
  const children: XmlNode[] = [];
  for (const c of n.$$ ?? []) {
    if (c['#name'] === '__text__' || c['#name'] === '__cdata__') children.push({ text: c._ ?? '' });
    else children.push(convert(c));
  }
  // An element with only text has no $$ entries for it in some xml2js paths: keep `_`.
  if (children.length === 0 && typeof n._ === 'string' && n._.trim() !== '') children.push({ text: n._ });
  return { name: n['#name'], attrs: { ...(n.$ ?? {}) }, children };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Characters XML 1.0 cannot carry at all, even escaped. */
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function checkText(s: string, where: string): string {
  if (XML_INVALID.test(s)) throw new InvalidArgumentError(where, s, 'text without control characters (XML cannot carry them)');
  return s;
}

/** Indented serialization; text-only elements stay on one line so values keep their exact text. */
export function serializeXml(el: XmlElement, indent = 0): string {
  const pad = '  '.repeat(indent);
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}='${escapeXml(checkText(String(v), `attribute ${k}`))}'`)
    .join('');
  if (el.children.length === 0) return `${pad}<${el.name}${attrs}/>\n`;
  if (el.children.every((c) => !isElement(c))) {
    const text = el.children.map((c) => escapeXml(checkText((c as XmlText).text, `<${el.name}>`))).join('');
    return `${pad}<${el.name}${attrs}>${text}</${el.name}>\n`;
  }
  const inner = el.children
    .map((c) => (isElement(c) ? serializeXml(c, indent + 1) : `${'  '.repeat(indent + 1)}${escapeXml(checkText(c.text, `<${el.name}>`))}\n`))
    .join('');
  return `${pad}<${el.name}${attrs}>\n${inner}${pad}</${el.name}>\n`;
}

// ---- building and surgical editing -----------------------------------------------------------------

type Child = XmlNode | string | number | null | undefined | false;

/** `el('disk', {type: 'file'}, el('source', {file}))`; strings become text; undefined attrs are left out. */
export function el(name: string, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): XmlElement {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = String(v);
  const kids: XmlNode[] = [];
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    kids.push(typeof c === 'string' || typeof c === 'number' ? { text: String(c) } : c);
  }
  return { name, attrs: a, children: kids };
}

export const elements = (parent: XmlElement, name?: string): XmlElement[] =>
  parent.children.filter((c): c is XmlElement => isElement(c) && (name === undefined || c.name === name));

export const child = (parent: XmlElement | undefined, name: string): XmlElement | undefined =>
  parent ? elements(parent, name)[0] : undefined;

/** Follows a path of element names from `root` (the root's own name is not part of the path). */
export function findPath(root: XmlElement, path: string[]): XmlElement | undefined {
  let cur: XmlElement | undefined = root;
  for (const p of path) cur = child(cur, p);
  return cur;
}

export function textOf(e: XmlElement | undefined): string | undefined {
  if (!e) return undefined;
  const texts = e.children.filter((c): c is XmlText => !isElement(c));
  return texts.length ? texts.map((t) => t.text).join('') : e.children.length === 0 ? '' : undefined;
}

export function setText(e: XmlElement, text: string): void {
  e.children = [{ text }];
}

/** The child named `name`, created at the end (or right after `after`) when missing. */
export function ensureChild(parent: XmlElement, name: string, after?: string): XmlElement {
  const existing = child(parent, name);
  if (existing) return existing;
  const created = el(name);
  const anchor = after ? parent.children.findIndex((c) => isElement(c) && c.name === after) : -1;
  if (anchor >= 0) parent.children.splice(anchor + 1, 0, created);
  else parent.children.push(created);
  return created;
}

export function removeChildren(parent: XmlElement, pred: (e: XmlElement) => boolean): number {
  const before = parent.children.length;
  parent.children = parent.children.filter((c) => !isElement(c) || !pred(c));
  return before - parent.children.length;
}

export function cloneXml<T extends XmlNode>(n: T): T {
  return JSON.parse(JSON.stringify(n)) as T;
}
