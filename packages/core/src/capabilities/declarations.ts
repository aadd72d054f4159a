import { FEATURES, isFeatureId, type FeatureId } from './catalogue.js';

/** Nova's per-driver support values. */
export type SupportStatus = 'complete' | 'partial' | 'missing' | 'unknown';

export interface CapabilityCell {
  status: SupportStatus;
  notes?: string;
  /** A mechanism variant that matters to the reader (e.g. VMS `shared` vs `copy` memory). */
  mode?: string;
}

export type CapabilityDeclarations = Readonly<Record<FeatureId, CapabilityCell>>;

/**
 * Builds a full declaration table: every catalogue feature not named is `missing`. Naming an unknown
 * feature id is a programming error and throws at module load, so a typo can't hide a claim.
 */
export function declareCapabilities(cells: Record<FeatureId, CapabilityCell | SupportStatus>): CapabilityDeclarations {
  for (const id of Object.keys(cells)) {
    if (!isFeatureId(id)) throw new Error(`declareCapabilities: unknown feature id ${JSON.stringify(id)}`);
  }
  const out: Record<FeatureId, CapabilityCell> = {};
  for (const feature of FEATURES) {
    const cell = cells[feature.id];
    out[feature.id] = cell === undefined ? { status: 'missing' } : typeof cell === 'string' ? { status: cell } : cell;
  }
  return Object.freeze(out);
}

export function supports(decl: CapabilityDeclarations, id: FeatureId): boolean {
  const s = decl[id]?.status;
  return s === 'complete' || s === 'partial';
}
