import { buildDomainTree, child, ensureChild, parseXml, serializeXml, type XmlElement } from '../../src/xml/index.js';
import { FOREIGN_ELEMENTS, FOREIGN_METADATA, GOLDEN_METADATA, GOLDEN_SPEC } from '../fixtures/golden-spec.js';

/** Our generated golden XML, plus the foreign elements (as a user or another tool would have added them). */
export function goldenTree(overrides: { name?: string; uuid?: string } = {}): XmlElement {
  const tree = buildDomainTree({ ...GOLDEN_SPEC, ...overrides }, GOLDEN_METADATA);
  const at = tree.children.findIndex((c) => 'name' in c && c.name === 'memory');
  tree.children.splice(at, 0, ...FOREIGN_ELEMENTS.map((x) => parseXml(x)));
  ensureChild(tree, 'metadata').children.push(parseXml(FOREIGN_METADATA));
  return tree;
}

export function goldenXml(overrides: { name?: string; uuid?: string } = {}): string {
  return serializeXml(goldenTree(overrides));
}

export { child };
