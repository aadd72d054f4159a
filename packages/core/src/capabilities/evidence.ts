import type { FeatureId } from './catalogue.js';

export type EvidenceResult = 'pass' | 'fail' | 'skip';
/** `live`: a real backend answered. `replay`: recorded real backend output answered. `in-memory`: a fake (FakeDriver, libvirt's test:///), which verifies logic but backs no claim. */
export type EvidenceMode = 'live' | 'replay' | 'in-memory';

export interface EvidenceFile {
  schema: 'virtplug.evidence/1';
  driver: string;
  mode: EvidenceMode;
  backend: { name: string; version: string; details?: Record<string, string> };
  date: string;
  features: Record<FeatureId, { result: EvidenceResult; note?: string; checks?: string[] }>;
}

export type EvidenceMark = 'verified-live' | 'verified-replay' | 'declared';

export interface CellEvidence {
  kind: EvidenceMark;
  date?: string;
  backend?: string;
  result?: EvidenceResult;
  note?: string;
}
