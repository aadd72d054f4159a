import { FEATURES, type Feature, type FeatureId } from '../capabilities/catalogue.js';
import type { CapabilityCell, CapabilityDeclarations, SupportStatus } from '../capabilities/declarations.js';
import type { CellEvidence, EvidenceFile } from '../capabilities/evidence.js';

export interface MatrixDriverInput {
  name: string;
  title: string;
  capabilities: CapabilityDeclarations;
}

export interface MatrixCell extends CapabilityCell {
  evidence: CellEvidence;
}

export interface MatrixDriver {
  name: string;
  title: string;
  cells: Record<FeatureId, MatrixCell>;
}

export interface Matrix {
  generatedFrom: { drivers: string[]; evidenceFiles: number };
  features: Array<Pick<Feature, 'id' | 'title' | 'group' | 'status'> & { notes?: string }>;
  drivers: MatrixDriver[];
  /** Claims (`complete`) that no passing contract run backs. */
  unbackedClaims: Array<{ driver: string; feature: FeatureId }>;
}

const MODE_RANK: Record<string, number> = { live: 2, replay: 1 };

/**
 * Joins static declarations with the latest evidence. A cell is `verified-live` when a contract run
 * against a real backend passed for it, `verified-replay` when a run against recorded real output did,
 * and `declared` otherwise (in-memory fakes verify logic, not claims).
 */
export function buildMatrix(drivers: MatrixDriverInput[], evidence: EvidenceFile[]): Matrix {
  const unbackedClaims: Matrix['unbackedClaims'] = [];
  const out: MatrixDriver[] = drivers.map((d) => {
    const mine = evidence
      .filter((e) => e.driver === d.name && MODE_RANK[e.mode] !== undefined)
      .sort((a, b) => MODE_RANK[b.mode]! - MODE_RANK[a.mode]! || b.date.localeCompare(a.date));
    const cells: Record<FeatureId, MatrixCell> = {};
    for (const feature of FEATURES) {
      const cell = d.capabilities[feature.id] ?? { status: 'missing' as SupportStatus };
      const backing = mine.find((e) => e.features[feature.id]?.result === 'pass');
      const failing = mine.find((e) => e.features[feature.id]?.result === 'fail');
      const ev: CellEvidence = backing
        ? {
            kind: backing.mode === 'live' ? 'verified-live' : 'verified-replay',
            date: backing.date,
            backend: `${backing.backend.name} ${backing.backend.version}`.trim(),
            result: 'pass',
            // For a `missing` cell, what passed is the refusal: the operation threw UnsupportedOperationError.
            ...(cell.status === 'missing' ? { note: 'refusal verified (throws UnsupportedOperationError)' } : {}),
          }
        : { kind: 'declared', ...(failing ? { result: 'fail' as const, note: failing.features[feature.id]?.note ?? 'contract check failed' } : {}) };
      if (cell.status === 'complete' && ev.kind === 'declared') unbackedClaims.push({ driver: d.name, feature: feature.id });
      cells[feature.id] = { ...cell, evidence: ev };
    }
    return { name: d.name, title: d.title, cells };
  });
  return {
    generatedFrom: { drivers: drivers.map((d) => d.name), evidenceFiles: evidence.length },
    features: FEATURES.map(({ id, title, group, status, notes }) => ({ id, title, group, status, ...(notes ? { notes } : {}) })),
    drivers: out,
    unbackedClaims,
  };
}
