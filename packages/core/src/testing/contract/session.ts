import type { FeatureId } from '../../capabilities/catalogue.js';
import type { ComputeDriver } from '../../driver/compute-driver.js';
import { EvidenceRecorder, writeEvidence } from '../evidence-writer.js';
import { contractChecks, contractCleanup, type ContractCheck, type ContractState } from './checks.js';
import type { ContractOptions } from './options.js';

export type CheckOutcome = { name: string; result: 'pass' | 'fail' | 'skip'; error?: string; ms: number };

/**
 * One contract run: the checks, the evidence they produce, and the file written at the end. Both the
 * jest adapter and `runDriverContract` drive a session; neither knows what a check does.
 */
export class ContractSession implements ContractState {
  readonly recorder = new EvidenceRecorder();
  readonly checks: ContractCheck[];
  driver!: ComputeDriver;

  constructor(readonly options: ContractOptions) {
    this.checks = contractChecks(options, this);
  }

  record(feature: FeatureId, result: 'pass' | 'fail' | 'skip', note?: string, check?: string): void {
    this.recorder.record(feature, result, note, check);
  }

  claims(feature: FeatureId): boolean {
    return ['complete', 'partial'].includes(this.driver.capabilities[feature]?.status ?? 'missing');
  }

  async runCheck(check: ContractCheck): Promise<CheckOutcome> {
    const started = Date.now();
    const claimed = check.features.filter((f) => this.claims(f));
    if (check.features.length > 0 && claimed.length === 0) {
      for (const f of check.features) this.record(f, 'skip', 'not claimed', check.name);
      return { name: check.name, result: 'skip', ms: 0 };
    }
    try {
      await withTimeout(check.run(), this.options.timeoutMs ?? 120_000, check.name);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      for (const f of claimed) this.record(f, 'fail', message.slice(0, 300), check.name);
      return { name: check.name, result: 'fail', error: message, ms: Date.now() - started };
    }
    if (!check.records) for (const f of claimed) this.record(f, 'pass', undefined, check.name);
    return { name: check.name, result: 'pass', ms: Date.now() - started };
  }

  async finish(): Promise<string> {
    await contractCleanup(this, this.checks);
    const backend = await this.options.evidence
      .backend(this.driver)
      .catch((e: unknown) => ({ name: 'unknown', version: String(e) }));
    const file = this.options.evidence.file ?? this.driver.name;
    return writeEvidence(this.options.evidence.dir, file, this.recorder.build(this.driver.name, this.options.evidence.mode, backend));
  }
}

/** Runs the whole contract outside any test framework (`virtplug smoke`). */
export async function runDriverContract(
  driver: ComputeDriver,
  options: ContractOptions,
  onCheck?: (outcome: CheckOutcome) => void,
): Promise<{ outcomes: CheckOutcome[]; evidencePath: string }> {
  const session = new ContractSession(options);
  session.driver = driver;
  const outcomes: CheckOutcome[] = [];
  for (const check of session.checks) {
    const outcome = await session.runCheck(check);
    outcomes.push(outcome);
    onCheck?.(outcome);
  }
  return { outcomes, evidencePath: await session.finish() };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`contract check "${what}" did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
