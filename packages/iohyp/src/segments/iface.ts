import { createHash } from 'node:crypto';
import type { ProcessRunner } from '@virtplug/core';
import { runChecked } from '../util/run.js';

/** Small `ip` helpers every adapter needs. Interface names are built from validated numbers only. */
export async function linkExists(runner: ProcessRunner, iface: string): Promise<boolean> {
  const r = await runner.run('ip', ['-o', 'link', 'show', 'dev', iface], { timeoutMs: 10_000 });
  return r.exitCode === 0;
}

export async function deleteLink(runner: ProcessRunner, iface: string): Promise<void> {
  if (!(await linkExists(runner, iface))) return;
  await runChecked(runner, 'ip', ['link', 'del', 'dev', iface], { what: `delete interface ${iface}` });
}

/** Sets exactly this MAC and address on the interface and brings it up; a port already right is left alone. */
export async function setAddress(runner: ProcessRunner, iface: string, cidr: string, mac: string): Promise<void> {
  const link = await linkLine(runner, iface);
  if (!link.includes(`link/ether ${mac}`)) {
    await runChecked(runner, 'ip', ['link', 'set', 'dev', iface, 'address', mac], { what: `set the MAC of ${iface}` });
  }
  const shown = await runner.run('ip', ['-o', '-4', 'addr', 'show', 'dev', iface], { timeoutMs: 10_000 });
  const current = [...shown.stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]);
  if (current.length === 1 && current[0] === cidr && /state UP|,UP/.test(link)) return;
  await runChecked(runner, 'ip', ['addr', 'flush', 'dev', iface], { what: `clear the addresses of ${iface}` });
  await runChecked(runner, 'ip', ['addr', 'add', cidr, 'dev', iface], { what: `put ${cidr} on ${iface}` });
  await runChecked(runner, 'ip', ['link', 'set', 'dev', iface, 'up'], { what: `bring ${iface} up` });
}

async function linkLine(runner: ProcessRunner, iface: string): Promise<string> {
  return (await runner.run('ip', ['-o', 'link', 'show', 'dev', iface], { timeoutMs: 10_000 })).stdout;
}

/** A locally administered unicast MAC derived from a key (agent name + segment). */
export function stableMac(key: string): string {
  const h = createHash('sha256').update(key).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
