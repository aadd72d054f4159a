import { InvalidArgumentError } from '@virtplug/core';
import { parseLibvirtUri, requireLibvirtUri } from './uri.js';

describe('libvirt URIs', () => {
  it.each([
    ['qemu:///system', { driver: 'qemu', local: true, perConnectionState: false }],
    ['qemu:///session', { driver: 'qemu', local: true }],
    ['qemu+tcp://h/system', { driver: 'qemu', transport: 'tcp', host: 'h', local: false }],
    ['qemu+ssh://user@h/system', { driver: 'qemu', transport: 'ssh', host: 'user@h', local: false }],
    ['qemu+tcp://10.77.0.2:16509/system', { host: '10.77.0.2:16509' }],
    ['qemu+unix:///system?socket=/tmp/nonexistent.sock', { transport: 'unix', local: true }],
    ['xen:///system', { driver: 'xen' }],
    ['test:///default', { driver: 'test', perConnectionState: true }],
    ['test:///abs/path.xml', { driver: 'test', path: '/abs/path.xml' }],
  ])('accepts %s', (uri, expected) => {
    expect(parseLibvirtUri(uri)).toMatchObject({ uri, ...expected });
  });

  it.each([
    ['', 'empty'],
    ['qemu//system', 'does not look like'],
    ['qemu:/system', 'does not look like'],
    ['http://host/system', 'does not look like'],
    ['qemu:///nonsense', 'not /system, /session or /embed'],
    ['qemu+ssh://bad host/system', 'does not look like'],
    ['test:///relative.txt', 'not /default or an absolute path'],
    ['test:///../etc/x.xml', 'not /default or an absolute path'],
    ['test+tcp://h/default', 'in-process'],
    ['qemu:///system?socket', 'not key=value'],
    ['qemu:///system\n', 'control characters'],
  ])('refuses %j (%s)', (uri, reason) => {
    const r = parseLibvirtUri(uri);
    expect('error' in r && r.error).toMatch(reason);
  });

  it('requireLibvirtUri throws InvalidArgumentError naming the value and the accepted forms', () => {
    const err = (() => {
      try {
        requireLibvirtUri('qemu//system');
      } catch (e) {
        return e as InvalidArgumentError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err!.code).toBe('invalid_argument');
    expect(err!.message).toContain('"qemu//system"');
    expect(err!.message).toContain('qemu:///system');
  });
});
