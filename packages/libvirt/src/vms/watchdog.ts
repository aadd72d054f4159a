import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Bless pauses the source; if our process dies (SIGKILL) while it is paused, nothing in it can run a
 * `finally`. So before pausing we start a small detached guard process holding a pipe from us. When
 * the pipe closes without "done" on it, the guard resumes the source (retrying while libvirt still
 * holds the domain's job) and switches x-ignore-shared back off. argv only, no shell.
 */
const GUARD = String.raw`
const { execFileSync } = require('node:child_process');
const [uri, uuid, resetIgnoreShared] = process.argv.slice(1);
let done = false;
process.stdin.on('data', (d) => {
  if (String(d).includes('done')) { done = true; process.exit(0); }
  if (String(d).includes('now')) act();
});
process.stdin.on('close', () => { if (!done) act(); });
function act() {
  const virsh = (...a) => { try { return execFileSync('virsh', ['-c', uri, ...a], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 30000 }).toString(); } catch { return null; } };
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const state = virsh('domstate', uuid);
    if (state === null || !state.includes('paused')) break;
    if (virsh('resume', uuid) !== null) break;
    execFileSync('sleep', ['1']);
  }
  if (resetIgnoreShared === '1') virsh('qemu-monitor-command', uuid, '{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"x-ignore-shared","state":false}]}}');
  process.exit(0);
}
`;

export class UnpauseGuard {
  private constructor(private readonly child: ChildProcess) {}

  static start(uri: string, uuid: string, resetIgnoreShared: boolean): UnpauseGuard {
    const child = spawn(process.execPath, ['-e', GUARD, uri, uuid, resetIgnoreShared ? '1' : '0'], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { ...process.env, LC_ALL: 'C', NODE_OPTIONS: '' },
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new UnpauseGuard(child);
  }

  /** Our own resume failed: let the guard keep trying, independently of this process. */
  fireNow(): void {
    try {
      this.child.stdin?.end('now\n');
    } catch {
      // Nothing to tell: the guard is gone.
    }
  }

  /** The bless finished (and resumed the source itself): the guard exits without acting. */
  disarm(): void {
    try {
      this.child.stdin?.end('done\n');
    } catch {
      // The guard is already gone; it had nothing to do.
    }
  }
}
