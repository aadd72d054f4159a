import { readdirSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic-json.js';
import { join } from 'node:path';
import type { EvidenceFile, EvidenceMode, EvidenceResult } from '../capabilities/evidence.js';
import type { FeatureId } from '../capabilities/catalogue.js';

/** Collects per-feature results during a contract run and writes them as one evidence file. */
export class EvidenceRecorder {
  private readonly features: EvidenceFile['features'] = {};

  record(feature: FeatureId, result: EvidenceResult, note?: string, check?: string): void {
    const prev = this.features[feature];
    // A feature fails if any of its checks failed, and passes only if one passed and none failed.
    const merged: EvidenceResult =
      prev?.result === 'fail' || result === 'fail' ? 'fail' : prev?.result === 'pass' || result === 'pass' ? 'pass' : 'skip';
    const checks = [...(prev?.checks ?? []), ...(check ? [`${result}: ${check}`] : [])];
    this.features[feature] = { result: merged, ...(note ?? prev?.note ? { note: note ?? prev?.note } : {}), ...(checks.length ? { checks } : {}) };
  }

  results(): EvidenceFile['features'] {
    return this.features;
  }

  build(driver: string, mode: EvidenceMode, backend: EvidenceFile['backend']): EvidenceFile {
    return { schema: 'virtplug.evidence/1', driver, mode, backend, date: new Date().toISOString(), features: this.features };
  }
}

/** Writes atomically, so a reader never sees half a file. */
export function writeEvidence(dir: string, fileName: string, evidence: EvidenceFile): string {
  const path = join(dir, fileName.endsWith('.json') ? fileName : `${fileName}.json`);
  writeJsonAtomic(path, evidence, { mode: 0o644 });
  return path;
}

export function readEvidenceDir(dir: string): EvidenceFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: EvidenceFile[] = [];
  for (const name of names.sort()) {
    try {
      const data = JSON.parse(readFileSync(join(dir, name), 'utf8')) as EvidenceFile;
      if (data.schema === 'virtplug.evidence/1') out.push(data);
    } catch {
      // A corrupt evidence file backs nothing; the cells fall back to `declared`.
    }
  }
  return out;
}
