import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const selftest = fileURLToPath(new URL('../../../tools/guest-image/selftest.mjs', import.meta.url));

/**
 * The guest image and its agent, end to end under plain QEMU: every agent op, save/restore into two
 * clones, ACPI power-off (tools/guest-image/selftest.mjs). Drivers above build on this protocol.
 */
describe('guest image self-test', () => {
  it('boots, answers every agent op, survives save/restore into clones, powers off on ACPI', async () => {
    const work = mkdtempSync(join(tmpdir(), 'vp-selftest-'));
    try {
      const r = await execa('node', [selftest, '--work', work], { reject: false, timeout: 240_000, all: true });
      const summary = /^(\d+) passed, (\d+) failed$/m.exec(r.all ?? '');
      expect({ exit: r.exitCode, failed: summary?.[2], failures: (r.all ?? '').split('\n').filter((l) => l.startsWith('FAIL')) }).toEqual({
        exit: 0,
        failed: '0',
        failures: [],
      });
      expect(Number(summary?.[1])).toBeGreaterThan(50);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 250_000);
});
