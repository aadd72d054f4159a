import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { fromInline, loadConfigFile, readDefaults, readSection, unknownKeys } from './config.js';
import { opt } from './options.js';

const dir = mkdtempSync(join(tmpdir(), 'vp-config-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const spec = {
  retry_count: opt.int(3, 'tries', { min: 1 }),
  remote_display: opt.bool(false, 'vrde'),
  vrde_password_length: opt.optionalInt('len', { min: 1 }),
  security_method: opt.oneOf(['RDP', 'TLS', 'Negotiate'], 'RDP', 'method'),
  vboxmanage_cmd: opt.str('VBoxManage', 'path'),
};

describe('config loading', () => {
  it('reads nova.conf-style INI with [DEFAULT] and driver sections, filling defaults', () => {
    const file = write('a.conf', '[DEFAULT]\ncompute_driver = fake\n\n[virtualbox]\nremote_display = True\nretry_count=5\n');
    const config = loadConfigFile(file);
    expect(readDefaults(config).compute_driver).toBe('fake');
    expect(readDefaults(config).state_path).toBe('/var/lib/virtplug');
    expect(readSection(config, 'virtualbox', spec)).toEqual({
      retry_count: 5,
      remote_display: true,
      vrde_password_length: null,
      security_method: 'RDP',
      vboxmanage_cmd: 'VBoxManage',
    });
  });

  it('names the file, section, key, value and what is expected on a bad value', () => {
    const file = write('bad.conf', '[virtualbox]\nretry_count = abc\n');
    const config = loadConfigFile(file);
    let err: unknown;
    try {
      readSection(config, 'virtualbox', spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('invalid_config');
    expect((err as Error).message).toBe(`${file}: [virtualbox] retry_count = "abc" is invalid; expected an integer >= 1.`);
  });

  it('rejects values outside an enum and below a minimum', () => {
    const config = fromInline({ virtualbox: { security_method: 'SSL', retry_count: 0 } });
    expect(() => readSection(config, 'virtualbox', { security_method: spec.security_method })).toThrow(/one of RDP, TLS, Negotiate/);
    expect(() => readSection(config, 'virtualbox', { retry_count: spec.retry_count })).toThrow(/retry_count = 0 is invalid/);
  });

  it('accepts None for optional values and keeps unknown keys out of the result', () => {
    const config = loadConfigFile(write('n.conf', '[virtualbox]\nvrde_password_length = None\nhtml5_proxy = x\n'));
    expect(readSection(config, 'virtualbox', spec).vrde_password_length).toBeNull();
    expect(unknownKeys(config, 'virtualbox', spec)).toEqual(['html5_proxy']);
  });

  it('reads JSON files, in nova.conf shape or camelCase', () => {
    const a = loadConfigFile(write('a.json', JSON.stringify({ DEFAULT: { compute_driver: 'libvirt' }, libvirt: { virt_type: 'qemu' } })));
    expect(readDefaults(a).compute_driver).toBe('libvirt');
    expect(a.sections.libvirt).toEqual({ virt_type: 'qemu' });
    const b = loadConfigFile(write('b.json', JSON.stringify({ computeDriver: 'fake', logLevel: 'debug' })));
    expect(readDefaults(b)).toMatchObject({ compute_driver: 'fake', log_level: 'debug' });
  });

  it('reports malformed JSON and missing files clearly', () => {
    expect(() => loadConfigFile(write('bad.json', '{'))).toThrow(/valid JSON/);
    expect(() => loadConfigFile(join(dir, 'nope.conf'))).toThrow(/nope\.conf.*readable INI/);
  });
});
