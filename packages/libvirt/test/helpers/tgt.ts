import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const IQN_PREFIX = 'iqn.2026-11.dev.virtplug:lv-';

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A private tgtd for these tests: its own management channel (-C) and its own portal on 127.0.0.1 and a
 * free port, so it neither needs nor disturbs a tgtd someone else runs. Started as our child, stopped
 * by `tgtadm … --mode system --op delete` and then by its pid.
 */
export class TgtDaemon {
  private child: ChildProcess | undefined;
  readonly control = randomInt(300, 900);
  port = 0;
  private nextTid = 1;

  async start(): Promise<void> {
    try {
      execFileSync('tgtd', ['--version'], { stdio: 'pipe' });
    } catch {
      throw new Error('tgtd is not installed; run: apt-get install tgt (or bash tools/setup.sh)');
    }
    this.port = await freePort();
    this.child = spawn('tgtd', ['-f', '-C', String(this.control), '--iscsi', `portal=127.0.0.1:${this.port}`], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        this.adm(['--mode', 'target', '--op', 'show']);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`tgtd -C ${this.control} did not come up within 10 s`);
  }

  adm(args: string[]): string {
    return execFileSync('tgtadm', ['-C', String(this.control), '--lld', 'iscsi', ...args], { stdio: 'pipe' }).toString();
  }

  /** A target with one 16 MiB LUN (1) backed by a file; with `chap`, a CHAP account bound to it. */
  createTarget(dir: string, chap?: { user: string; password: string }): { iqn: string; tid: number; backing: string; cleanup: () => void } {
    const tid = this.nextTid++;
    const iqn = `${IQN_PREFIX}${randomBytes(4).toString('hex')}`;
    const backing = join(dir, `${iqn.split(':')[1]}.raw`);
    writeFileSync(backing, '');
    truncateSync(backing, 16 << 20);
    this.adm(['--mode', 'target', '--op', 'new', '--tid', String(tid), '--targetname', iqn]);
    this.adm(['--mode', 'logicalunit', '--op', 'new', '--tid', String(tid), '--lun', '1', '--backing-store', backing]);
    this.adm(['--mode', 'target', '--op', 'bind', '--tid', String(tid), '--initiator-address', '127.0.0.1']);
    if (chap) {
      this.adm(['--mode', 'account', '--op', 'new', '--user', chap.user, '--password', chap.password]);
      this.adm(['--mode', 'account', '--op', 'bind', '--tid', String(tid), '--user', chap.user]);
    }
    return {
      iqn,
      tid,
      backing,
      cleanup: () => {
        for (const args of [
          ['--mode', 'target', '--op', 'delete', '--force', '--tid', String(tid)],
          ...(chap ? [['--mode', 'account', '--op', 'delete', '--user', chap.user]] : []),
        ]) {
          try {
            this.adm(args);
          } catch {
            // already gone
          }
        }
        rmSync(backing, { force: true });
      },
    };
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    try {
      this.adm(['--mode', 'system', '--op', 'delete']);
    } catch {
      // not answering: kill below
    }
    const child = this.child;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      if (child.exitCode !== null) {
        clearTimeout(t);
        resolve();
      }
    });
  }
}
