import { isIPv4 } from 'node:net';
import { InvalidArgumentError, type ProcessRunner } from '@virtplug/core';
import { runChecked } from '../util/run.js';
import type { ExportAcl } from './port.js';

const TABLE = 'vp_iohyp';

/**
 * The export ACL in nftables (ORBIT passed the guest MAC/IP to its kernel module; we filter at the
 * door): a verdict map `port -> jump exp_<id>`, and per export a chain that accepts only the allowed
 * sources arriving on the segment interface and resets everything else, so a refused client fails at
 * once instead of hanging. Binding to the segment address alone would not be enough: Linux answers
 * for any local address on any interface (weak host model).
 */
export class NftExportAcl implements ExportAcl {
  constructor(private readonly runner: ProcessRunner) {}

  private nft(script: string, what: string) {
    return runChecked(this.runner, 'nft', ['-f', '-'], { input: script, what });
  }

  private chain(exportId: string): string {
    return `exp_${exportId.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  private async ensureTable(): Promise<void> {
    const r = await this.runner.run('nft', ['list', 'table', 'inet', TABLE], { timeoutMs: 10_000 });
    if (r.exitCode === 0) return;
    await this.nft(
      [
        `add table inet ${TABLE}`,
        `add map inet ${TABLE} exports { type inet_service : verdict; }`,
        `add chain inet ${TABLE} input { type filter hook input priority 0; policy accept; }`,
        `add rule inet ${TABLE} input tcp dport vmap @exports`,
      ].join('\n') + '\n',
      'create the export ACL table',
    );
  }

  async allow(exportId: string, port: number, iface: string, allow: readonly string[]): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new InvalidArgumentError('ACL interface', iface, 'an interface name');
    for (const a of allow) if (!isIPv4(a)) throw new InvalidArgumentError('ACL address', a, 'an IPv4 address');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('ACL port', port, '1-65535');
    await this.ensureTable();
    await this.revoke(exportId, port, false);
    const chain = this.chain(exportId);
    const accept = allow.length > 0 ? [`add rule inet ${TABLE} ${chain} iifname "${iface}" ip saddr { ${allow.join(', ')} } accept`] : [];
    await this.nft(
      [
        `add chain inet ${TABLE} ${chain}`,
        ...accept,
        `add rule inet ${TABLE} ${chain} meta l4proto tcp reject with tcp reset`,
        `add element inet ${TABLE} exports { ${port} : jump ${chain} }`,
      ].join('\n') + '\n',
      `admit ${allow.join(', ') || 'nobody'} on ${iface} to port ${port}`,
    );
  }

  async revoke(exportId: string, port: number, dropEmptyTable = true): Promise<void> {
    const listed = await this.runner.run('nft', ['list', 'table', 'inet', TABLE], { timeoutMs: 10_000 });
    if (listed.exitCode !== 0) return;
    const chain = this.chain(exportId);
    if (new RegExp(`\\b${port} : jump ${chain}\\b`).test(listed.stdout)) {
      await this.nft(`delete element inet ${TABLE} exports { ${port} }\n`, `remove the ACL of port ${port}`);
    }
    if (new RegExp(`chain ${chain} \\{`).test(listed.stdout)) {
      await this.nft(`delete chain inet ${TABLE} ${chain}\n`, `remove ACL chain ${chain}`);
    }
    if (dropEmptyTable && (await this.ports()).length === 0) {
      // Nothing left to guard: remove the table, so a detached IOhyp carries no trace of the export.
      await this.runner.run('nft', ['delete', 'table', 'inet', TABLE], { timeoutMs: 10_000 });
    }
  }

  async ports(): Promise<number[]> {
    const r = await this.runner.run('nft', ['list', 'map', 'inet', TABLE, 'exports'], { timeoutMs: 10_000 });
    if (r.exitCode !== 0) return [];
    return [...r.stdout.matchAll(/(\d+) : jump/g)].map((m) => Number(m[1]));
  }
}
