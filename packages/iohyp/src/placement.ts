import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: every router ranks the IOhyps the same way for an
 * instance, and adding or removing one IOhyp moves only the instances that ranked it first. nova-iorcl
 * let any IOhyp consume the cast, so detach could land on a different host than attach.
 */
export function rankAgents<T extends { name: string }>(instanceUuid: string, agents: readonly T[]): T[] {
  const score = (a: T) => createHash('sha256').update(`${a.name}\0${instanceUuid}`).digest().readBigUInt64BE(0);
  return [...agents].map((a) => ({ a, s: score(a) })).sort((x, y) => (x.s === y.s ? x.a.name.localeCompare(y.a.name) : x.s > y.s ? -1 : 1)).map((x) => x.a);
}
