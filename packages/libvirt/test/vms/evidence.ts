import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeEvidence, type EvidenceFile, type EvidenceResult } from '@virtplug/core';
import { EVIDENCE_DIR } from '../helpers/env.js';

const FILE = 'libvirt-vms.json';

/**
 * The VMS suites each prove some `vms.*` features; they share one evidence file. Each suite records its
 * checks under its own name, replacing what its previous run wrote and keeping the other suites'.
 */
export class VmsEvidence {
  private readonly checks: Array<{ feature: string; result: EvidenceResult; check: string }> = [];

  constructor(private readonly suite: string) {}

  /** Records the outcome of `fn` as a check of `feature`, and rethrows its failure. */
  async check<T>(feature: string | string[], what: string, fn: () => Promise<T>): Promise<T> {
    const features = Array.isArray(feature) ? feature : [feature];
    try {
      const v = await fn();
      for (const f of features) this.checks.push({ feature: f, result: 'pass', check: what });
      return v;
    } catch (e) {
      for (const f of features) this.checks.push({ feature: f, result: 'fail', check: `${what}: ${(e as Error).message.split('\n')[0]}` });
      throw e;
    }
  }

  write(): void {
    if (this.checks.length === 0) return;
    let prev: EvidenceFile | undefined;
    try {
      prev = JSON.parse(readFileSync(`${EVIDENCE_DIR}/${FILE}`, 'utf8')) as EvidenceFile;
    } catch {
      prev = undefined;
    }
    const tag = `[${this.suite}] `;
    const features: EvidenceFile['features'] = {};
    const all = new Map<string, string[]>();
    for (const [f, v] of Object.entries(prev?.features ?? {})) all.set(f, (v.checks ?? []).filter((c) => !c.includes(tag)));
    for (const c of this.checks) all.set(c.feature, [...(all.get(c.feature) ?? []), `${c.result}: ${tag}${c.check}`]);
    for (const [f, checks] of all) {
      if (checks.length === 0) continue;
      const result: EvidenceResult = checks.some((c) => c.startsWith('fail')) ? 'fail' : checks.some((c) => c.startsWith('pass')) ? 'pass' : 'skip';
      features[f] = { result, checks };
    }
    const versions = execFileSync('virsh', ['version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    writeEvidence(EVIDENCE_DIR, FILE, {
      schema: 'virtplug.evidence/1',
      driver: 'libvirt',
      mode: 'live',
      backend: {
        name: 'libvirt+qemu (TCG)',
        version: /Using library: libvirt (\S+)/.exec(versions)?.[1] ?? 'unknown',
        details: { qemu: /Running hypervisor: QEMU (\S+)/.exec(versions)?.[1] ?? 'unknown', suite: 'packages/libvirt/test/vms' },
      },
      date: new Date().toISOString(),
      features,
    });
  }
}
