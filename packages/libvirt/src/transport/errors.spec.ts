import { LibvirtError } from '@unraid/libvirt';
import { TimeoutError } from '@virtplug/core';
import { libvirtMessage, mapLibvirtError } from './errors.js';

const ctx = { op: 'domainLookupByUUIDString', uri: 'qemu:///system', subject: { kind: 'Instance', id: '6695eb01-f6a4-8304-79aa-97f2502e193f' } };

/** Messages exactly as libvirt 9.0 produced them on the project machines (binding and virsh). */
const CASES: Array<[string, string]> = [
  ['Domain not found', 'not_found'],
  ["Domain not found: no domain with matching name 'nope'", 'not_found'],
  ["Domain not found: no domain with matching uuid '6695eb01-f6a4-8304-79aa-97f2502e193f'", 'not_found'],
  ['this function is not supported by the connection driver: virDomainPMSuspendForDuration', 'unsupported'],
  ['this function is not supported by the connection driver: virDomainAttachDeviceFlags', 'unsupported'],
  ["Failed to connect socket to '/tmp/nonexistent.sock': No such file or directory", 'hypervisor_unavailable'],
  ["Failed to connect socket to '/var/run/libvirt/libvirt-sock': Connection refused", 'hypervisor_unavailable'],
  ['Cannot recv data: Connection reset by peer', 'hypervisor_unavailable'],
  ['End of file while reading data: Input/output error', 'hypervisor_unavailable'],
  ['no connection driver available for bogus:///x', 'hypervisor_unavailable'],
  ['Requested operation is not valid: domain is not running', 'invalid_state'],
  ['Requested operation is not valid: domain is already running', 'invalid_state'],
  ["internal error: domain 'test' not paused", 'invalid_state'],
  ['Requested operation is not valid: Refusing to undefine while domain managed save image exists', 'invalid_state'],
  ["operation failed: domain 'vp-a' already exists with uuid 0feac370-c75b-47b3-8999-0d65841bef76", 'conflict'],
  ['Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainSuspend)', 'locked'],
  ['XML error: an os <type> must be specified', 'invalid_argument'],
  ['Invalid UUID', 'invalid_argument'],
  ["Cannot access storage file '/nonexistent/disk.qcow2' (as uid:0, gid:0): No such file or directory", 'not_found'],
  ["internal error: unable to execute QEMU command 'blockdev-add': Failed to connect to '127.0.0.1:10810': Connection refused", 'operation_failed'],
  ['Secret not found: no secret with matching uuid', 'not_found'],
  ['internal error: something unexpected', 'operation_failed'],
];

describe('mapLibvirtError', () => {
  it.each(CASES)('maps %j to %s', (message, code) => {
    expect(mapLibvirtError(new LibvirtError(message, -1, -1, -1), ctx).code).toBe(code);
  });

  it('keeps the libvirt message and names the subject for not found', () => {
    const e = mapLibvirtError(new Error("Domain not found: no domain with matching uuid 'x'"), ctx);
    expect(e.message).toContain('"6695eb01-f6a4-8304-79aa-97f2502e193f" could not be found');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('names the URI and how to start the daemon when libvirtd is down', () => {
    const e = mapLibvirtError(new Error("Failed to connect socket to '/tmp/nonexistent.sock': No such file or directory"), {
      op: 'connectOpen',
      uri: 'qemu+unix:///system?socket=/tmp/nonexistent.sock',
    });
    expect(e.message).toContain('qemu+unix:///system?socket=/tmp/nonexistent.sock');
    expect(e.message).toContain('bash tools/libvirt/start-libvirtd.sh');
    expect(e.message).toContain('libvirtd -d');
    expect(e.details).toMatchObject({ uri: 'qemu+unix:///system?socket=/tmp/nonexistent.sock' });
  });

  it('reads virsh stderr, dropping the generic "failed to get domain" line', () => {
    const stderr = "error: failed to get domain 'x'\nerror: Domain not found: no domain with matching name 'x'\n";
    expect(libvirtMessage(stderr)).toBe("Domain not found: no domain with matching name 'x'");
    expect(mapLibvirtError(stderr, { ...ctx, op: 'virsh dominfo' }).code).toBe('not_found');
  });

  it('treats a lookup miss of a name with quotes as not found', () => {
    const stderr = `error: failed to get domain 'clone it's "<b>" & $(id)'\n`;
    expect(mapLibvirtError(stderr, { ...ctx, op: 'virsh domuuid' }).code).toBe('not_found');
  });

  it('passes core errors through unchanged (a timeout raised by the adapter stays a timeout)', () => {
    const t = new TimeoutError('libvirt domainGetInfo', 1000);
    expect(mapLibvirtError(t, ctx)).toBe(t);
  });

  it('maps the driver-level refusal to unsupported with the operation name', () => {
    const e = mapLibvirtError('this function is not supported by the connection driver: virDomainMigrate3', { op: 'virsh migrate', uri: 'test:///default' });
    expect(e).toMatchObject({ code: 'unsupported', details: { operation: 'virsh migrate' } });
  });
});
