import type { IoHypAgentApi } from '../agent/client.js';
import { instanceRef, type RouteContext } from './context.js';
import { teardown } from './saga.js';

export interface GcReport {
  /** Routes finished (torn down) from their records. */
  routes: Array<{ attachmentId: string; reason: string; undone: string[]; failed: string[] }>;
  /** Agent-side objects no record accounts for, and whether they were removed. */
  orphans: Array<{ agent: string; kind: 'export' | 'backend' | 'port-holder'; id: string; removed: boolean; error?: string }>;
}

/**
 * Garbage collection from the records: routes stuck in attaching/detaching/error are torn down the
 * rest of the way, and so are routes of instances that no longer exist. Then each agent's exports,
 * backends and port holders that no record names are removed (one router per agent set is assumed).
 */
export async function collectGarbage(ctx: RouteContext, agents: ReadonlyMap<string, IoHypAgentApi>, options: { agentOrphans?: boolean }): Promise<GcReport> {
  const report: GcReport = { routes: [], orphans: [] };
  for (const r of ctx.routes.list()) {
    let reason: string | null = r.state !== 'attached' ? `state ${r.state}` : null;
    let gone = false;
    if (!reason) {
      gone = !(await ctx.inner.instanceExists(instanceRef(r)).catch(() => true));
      if (gone) reason = 'instance no longer exists';
    }
    if (!reason) continue;
    const res = await teardown(ctx, { ...r, state: 'detaching' }, { skipDisk: gone });
    report.routes.push({ attachmentId: r.attachmentId, reason, undone: res.undone, failed: res.failed.map((f) => `${f.step}: ${f.message}`) });
  }
  if (options.agentOrphans === false) return report;
  const known = new Set(ctx.routes.list().map((r) => r.attachmentId));
  for (const [name, agent] of agents) {
    let status;
    try {
      status = await agent.status();
    } catch (e) {
      report.orphans.push({ agent: name, kind: 'export', id: '*', removed: false, error: (e as Error).message });
      continue;
    }
    const attempt = async (kind: GcReport['orphans'][number]['kind'], id: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        report.orphans.push({ agent: name, kind, id, removed: true });
      } catch (e) {
        report.orphans.push({ agent: name, kind, id, removed: false, error: (e as Error).message });
      }
    };
    for (const e of status.exports) if (!known.has(e.id)) await attempt('export', e.id, () => agent.removeExport(e.id));
    for (const p of status.ports) {
      for (const h of p.holders) if (!known.has(h)) await attempt('port-holder', `${p.segment.type}:${p.segment.id}/${h}`, () => agent.releaseSegmentPort(p.segment, h));
    }
    for (const b of status.backends) if (!known.has(b.id)) await attempt('backend', b.id, () => agent.disconnectBackend(b.id));
  }
  return report;
}
