import { ConfigError, fromInline, readSection } from '@virtplug/core';
import { LIBVIRT_SECTION, resolveLibvirtConfig } from './config.js';

describe('[libvirt] config', () => {
  it('fills defaults and derives paths from state_path', () => {
    const c = resolveLibvirtConfig(readSection(fromInline({}), 'libvirt', LIBVIRT_SECTION), '/srv/vp');
    expect(c).toMatchObject({
      connection_uri: 'qemu:///system',
      virt_type: 'qemu',
      domain_type: 'qemu',
      images_path: '/srv/vp/images',
      instances_path: '/srv/vp/instances',
      guest_image_dir: '/var/lib/virtplug/guest-image',
      console_listen: '127.0.0.1',
      cpu_mode: 'none',
      machine_type: 'pc',
      vnc_password_length: 8,
    });
  });

  it('reads INI-style strings into typed values', () => {
    const config = fromInline({ libvirt: { virt_type: 'kvm', op_timeout_seconds: '30', vnc_enabled: 'False', images_path: '/data/img' } });
    const c = resolveLibvirtConfig(readSection(config, 'libvirt', LIBVIRT_SECTION), '/srv/vp');
    expect(c).toMatchObject({ virt_type: 'kvm', op_timeout_seconds: 30, vnc_enabled: false, images_path: '/data/img' });
  });

  it('gives a ConfigError naming key, value and the accepted URIs for a malformed connection_uri', () => {
    const config = fromInline({ libvirt: { connection_uri: 'qemu//system' } });
    expect(() => readSection(config, 'libvirt', LIBVIRT_SECTION)).toThrow(ConfigError);
    expect(() => readSection(config, 'libvirt', LIBVIRT_SECTION)).toThrow(/\[libvirt\] connection_uri = "qemu\/\/system" is invalid; expected a libvirt connection URI such as qemu:\/\/\/system/);
  });

  it.each([
    [{ virt_type: 'lxc' }, /virt_type = "lxc" is invalid; expected one of qemu, kvm, xen/],
    [{ cpu_mode: 'max' }, /cpu_mode/],
    [{ vnc_password_length: 9 }, /vnc_password_length = 9 is invalid; expected an integer >= 1 <= 8/],
    [{ op_timeout_seconds: 0 }, /op_timeout_seconds/],
  ])('refuses %j', (section, message) => {
    expect(() => readSection(fromInline({ libvirt: section }), 'libvirt', LIBVIRT_SECTION)).toThrow(message);
  });

  it('checks rules across options: xen URIs need virt_type xen, paths must be absolute', () => {
    expect(() => resolveLibvirtConfig({ connection_uri: 'xen:///system' }, '/s')).toThrow(/virt_type = "qemu" is invalid; expected xen for the xen URI/);
    expect(resolveLibvirtConfig({ connection_uri: 'xen:///system', virt_type: 'xen' }, '/s').domain_type).toBe('xen');
    expect(() => resolveLibvirtConfig({ connection_uri: 'qemu:///system', virt_type: 'xen' }, '/s')).toThrow(/qemu or kvm/);
    expect(() => resolveLibvirtConfig({ images_path: 'relative/dir' }, '/s')).toThrow(/images_path = "relative\/dir" is invalid; expected an absolute path/);
  });

  it('uses domain type test for the test driver whatever virt_type says', () => {
    expect(resolveLibvirtConfig({ connection_uri: 'test:///default' }, '/s').domain_type).toBe('test');
  });
});
