import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, driverSectionValues, fromInline, loadConfigFile, readSection, unknownKeys } from '@virtplug/core';
import { RDP_SECTION, VIRTUALBOX_SECTION, resolveSettings } from '../src/config.js';
import { driverModule } from '../src/index.js';

const seedConf = fileURLToPath(new URL('./fixtures/nova_compute.conf', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vp-vbox-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('[virtualbox] and [rdp] configuration', () => {
  it('has every option of seed 004 with its default', () => {
    const vb = readSection(fromInline({}), 'virtualbox', VIRTUALBOX_SECTION);
    expect(vb).toEqual({
      remote_display: false,
      retry_count: 3,
      retry_interval: 1,
      vboxmanage_cmd: 'VBoxManage',
      vrde_unique_port: false,
      vrde_module: 'Oracle VM VirtualBox Extension Pack',
      vrde_port: '3389',
      vrde_require_instance_uuid_as_password: false,
      vrde_password_length: null,
      wait_soft_reboot_seconds: 60,
      call_timeout_seconds: 120,
      medium_timeout_seconds: 3600,
      instances_path: null,
      images_path: null,
    });
    expect(readSection(fromInline({}), 'rdp', RDP_SECTION)).toEqual({
      enabled: false,
      encrypted_rdp: false,
      security_method: 'RDP',
      server_certificate: null,
      server_private_key: null,
      server_ca: null,
    });
  });

  it("loads the seed's nova_compute.conf unchanged", () => {
    const config = loadConfigFile(seedConf);
    const sections = driverSectionValues(driverModule, config);
    expect(sections.virtualbox).toMatchObject({
      remote_display: true,
      vrde_module: 'VNC',
      vrde_port: '5900-6000',
      vrde_unique_port: true,
      vrde_password_length: 20,
      vrde_require_instance_uuid_as_password: true,
      vboxmanage_cmd: 'VBoxManage',
    });
    expect(sections.rdp).toMatchObject({ enabled: false, encrypted_rdp: false, security_method: 'RDP' });
    expect(unknownKeys(config, 'virtualbox', VIRTUALBOX_SECTION)).toEqual([]);
    expect(config.sections.DEFAULT!.use_cow_images).toBe('True');
  });

  it('names file, section and key of a bad value', () => {
    const file = join(dir, 'bad.conf');
    writeFileSync(file, '[virtualbox]\nretry_count = abc\n');
    const err = configError(() => driverSectionValues(driverModule, loadConfigFile(file)));
    expect(err).toMatchObject({ code: 'invalid_config', file, section: 'virtualbox', key: 'retry_count' });
    expect(err.message).toBe(`${file}: [virtualbox] retry_count = "abc" is invalid; expected an integer >= 1.`);
  });

  it('validates vrde_port, security_method and ranges', () => {
    const bad = (section: string, values: Record<string, unknown>) =>
      configError(() => driverSectionValues(driverModule, fromInline({ [section]: values })));
    expect(bad('virtualbox', { vrde_port: '5900-' }).message).toMatch(/vrde_port = "5900-" is invalid; expected a port \(1-65535\), a range like "5900-6000"/);
    expect(bad('virtualbox', { vrde_port: '70000' }).key).toBe('vrde_port');
    expect(bad('rdp', { security_method: 'SSL' }).message).toMatch(/one of RDP, TLS, Negotiate/);
    expect(bad('virtualbox', { retry_count: '0' }).key).toBe('retry_count');
    expect(bad('virtualbox', { retry_interval: '-1' }).key).toBe('retry_interval');
    expect(bad('virtualbox', { vrde_password_length: '0' }).key).toBe('vrde_password_length');
    expect(readSection(fromInline({ rdp: { security_method: 'negotiate' } }), 'rdp', RDP_SECTION).security_method).toBe('Negotiate');
  });

  it('resolves durations and paths', () => {
    const vb = readSection(fromInline({ virtualbox: { retry_interval: '0.25', call_timeout_seconds: '2' } }), 'virtualbox', VIRTUALBOX_SECTION);
    const s = resolveSettings(vb, readSection(fromInline({}), 'rdp', RDP_SECTION), '/srv/vp');
    expect(s).toMatchObject({ retryIntervalMs: 250, callTimeoutMs: 2000, softRebootWaitMs: 60_000, instancesPath: '/srv/vp/virtualbox/instances', imagesPath: '/srv/vp/virtualbox/images', useCowImages: true });
  });
});
