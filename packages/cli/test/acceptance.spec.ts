import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vp-cli-'));

describe('virtplug CLI acceptance (issue 2)', () => {
  it('prints the matrix as JSON: features with id/title/group/status, drivers with cells {status, evidence}', async () => {
    const { code, stdout } = await runCli(['matrix', '--format', 'json']);
    expect(code).toBe(0);
    const m = JSON.parse(stdout) as {
      features: Array<Record<string, string>>;
      drivers: Array<{ name: string; cells: Record<string, { status: string; evidence: { kind: string } }> }>;
    };
    expect(m.features.length).toBeGreaterThanOrEqual(54);
    for (const f of m.features) expect(Object.keys(f)).toEqual(expect.arrayContaining(['id', 'title', 'group', 'status']));
    expect(m.drivers.map((d) => d.name)).toEqual(expect.arrayContaining(['libvirt', 'virtualbox']));
    for (const d of m.drivers) {
      for (const f of m.features) {
        const cell = d.cells[f.id!]!;
        expect(['complete', 'partial', 'missing', 'unknown']).toContain(cell.status);
        expect(['verified-live', 'verified-replay', 'declared']).toContain(cell.evidence.kind);
      }
    }
  });

  it('refuses an unknown --driver with one line naming the valid drivers, exit 2', async () => {
    const { code, stderr } = await runCli(['--driver', 'nosuch', 'drivers']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/"nosuch".*fake, iohyp, libvirt, virtualbox/);
  });

  it('refuses retry_count = abc under [virtualbox], naming the file, section and key', async () => {
    const file = join(dir, 'bad.conf');
    writeFileSync(file, '[DEFAULT]\ncompute_driver = fake\n\n[virtualbox]\nretry_count = abc\n');
    const { code, stderr } = await runCli(['--config', file, 'drivers']);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: [virtualbox] retry_count = "abc" is invalid`);
  });

  it('accepts seed 004 nova_compute.conf unchanged', async () => {
    const seed = join(dir, 'nova_compute.conf');
    writeFileSync(
      seed,
      [
        '[DEFAULT]', 'verbose=true', 'debug=true', 'compute_driver=fake', '', '[virtualbox]',
        '#vboxmanage_cmd=C:\\Program Files\\Oracle\\VirtualBox\\VBoxManage.exe', 'remote_display = true', 'vrde_module = VNC',
        'vrde_port = 5900-6000', 'vrde_unique_port = true', 'vrde_password_length=20', 'vrde_require_instance_uuid_as_password=True',
        '', '[rdp]', 'enabled=false', '#encrypted_rdp=true', '',
      ].join('\n'),
    );
    const { code, stdout } = await runCli(['--config', seed, '--json', 'list']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ instances: [] });
  });

  it('runs the verbs against the configured driver and exits 1 on an operation failure', async () => {
    const { code, stderr } = await runCli(['--driver', 'fake', 'show', 'ghost']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^virtplug: error \[not_found\]: Instance "ghost" could not be found; run 'virtplug list'/);
  });

  it('runs the README library example exactly as printed', async () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /<!-- example:library -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toContain("import { loadDriver } from '@virtplug/core';");
    // Written inside the workspace so Node resolves @virtplug/core the way a user's project would.
    const file = new URL('../.cache/readme-example.mjs', import.meta.url);
    mkdirSync(new URL('.', file), { recursive: true });
    writeFileSync(file, block!);
    const { execa } = await import('execa');
    const r = await execa('node', ['--conditions=development', '--import', 'tsx', file.pathname], {
      reject: false,
      cwd: new URL('../../../', import.meta.url).pathname,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('fake');
  });
});
