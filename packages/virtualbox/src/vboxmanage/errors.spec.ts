import { sample, sampleNames } from '../../test/helpers/samples.js';
import { toVirtplugError } from './errors.js';
import { parseErrorOutput } from './parse/error-output.js';

const call = { cmd: 'VBoxManage', subcommand: 'controlvm poweroff', target: 'vm' };
const codeOf = (name: string) => toVirtplugError(call, 1, sample(name)).code;

describe('VBoxManage error output and mapping (reference §8)', () => {
  it('parses the Details and Context lines of S9', () => {
    expect(parseErrorOutput(sample('S9-error-not-found-named.txt'))).toEqual({
      messages: ["Could not find a registered machine named 'CentOS-7'"],
      code: 'VBOX_E_OBJECT_NOT_FOUND',
      hex: '0x80bb0001',
      component: 'VirtualBoxWrap',
      context: '"FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())" at line 383 of file VBoxManageControlVM.cpp',
      iprt: [],
    });
    expect(parseErrorOutput(sample('S9-error-not-found-uuid-windows.txt')).code).toBe('VBOX_E_OBJECT_NOT_FOUND');
    expect(parseErrorOutput(sample('S9-error-invalid-arg-progress-form.txt'))).toMatchObject({
      code: 'NS_ERROR_INVALID_ARG',
      hex: '0x80070057',
      messages: ['Invalid argument value (extended info not available)'],
    });
    expect(parseErrorOutput(sample('S9-error-disk-full.txt'))).toMatchObject({ code: 'VBOX_E_FILE_ERROR', iprt: ['VERR_DISK_FULL'] });
  });

  it('maps every S9 sample to its core error', () => {
    const expected: Record<string, string> = {
      'S9-error-not-found-named.txt': 'not_found',
      'S9-error-not-found-uuid-windows.txt': 'not_found',
      'S9-error-locked-for-session-modifyvm.txt': 'locked',
      'S9-error-locked-by-session-startvm.txt': 'locked',
      'S9-error-invalid-machine-state.txt': 'invalid_state',
      'S9-error-not-mutable.txt': 'invalid_state',
      'S9-error-paused-host-power.txt': 'invalid_state',
      'S9-error-object-not-ready.txt': 'transient',
      'S9-error-terminated-during-startup.txt': 'operation_failed',
      'S9-error-invalid-cpu-count.txt': 'invalid_argument',
      'S9-error-invalid-arg-progress-form.txt': 'invalid_argument',
      'S9-error-disk-full.txt': 'conflict',
    };
    expect(sampleNames().filter((n) => n.startsWith('S9-')).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, code] of Object.entries(expected)) expect([name, codeOf(name)]).toEqual([name, code]);
  });

  it('names the machine a not-found error is about (by name or by UUID)', () => {
    const byName = toVirtplugError(call, 1, sample('S9-error-not-found-named.txt'));
    expect(byName.details).toMatchObject({ kind: 'VirtualBox machine', id: 'CentOS-7', vboxCode: 'VBOX_E_OBJECT_NOT_FOUND' });
    const byUuid = toVirtplugError(call, 1, sample('S9-error-not-found-uuid-windows.txt'));
    expect(byUuid.details).toMatchObject({ id: '7e261a39-d356-4eb1-a8ed-75675b149241' });
    expect(byUuid.message).toContain('VBoxManage controlvm poweroff');
  });

  it('marks locked and transient errors retryable, says how often it tried, and keeps the stderr', () => {
    const locked = toVirtplugError(call, 1, sample('S9-error-locked-for-session-modifyvm.txt'), 3);
    expect(locked.retryable).toBe(true);
    expect(locked.message).toMatch(/tried 3 times.*retry_count/);
    expect(locked.details.stderr).toContain('LockMachine');
  });

  it('maps missing files, existing files, kernel-module problems and unknown failures', () => {
    const notFound = toVirtplugError(call, 1, "VBoxManage: error: Could not find file for the medium '/x/y.vdi' (VERR_FILE_NOT_FOUND)\nVBoxManage: error: Details: code VBOX_E_FILE_ERROR (0x80bb0004), component MediumWrap, interface IMedium, callee nsISupports\n");
    expect(notFound).toMatchObject({ code: 'not_found', details: { kind: 'medium file', id: '/x/y.vdi' } });
    expect(toVirtplugError(call, 1, "VBoxManage: error: VDI: cannot create image '/a' (VERR_ALREADY_EXISTS)\nVBoxManage: error: Details: code VBOX_E_FILE_ERROR (0x80bb0004), component MediumWrap\n").code).toBe('conflict');
    expect(toVirtplugError(call, 1, 'WARNING: The vboxdrv kernel module is not loaded.\nVBoxManage: error: The virtual machine failed to start\n').code).toBe('hypervisor_unavailable');
    expect(toVirtplugError(call, 2, "\nSyntax error: Invalid parameter '--bogus'\n").code).toBe('invalid_argument');
    expect(toVirtplugError(call, 1, 'something odd\n')).toMatchObject({ code: 'operation_failed', message: 'VBoxManage controlvm poweroff failed (exit 1): something odd' });
    expect(toVirtplugError(call, 1, "VBoxManage: error: Could not find a snapshot named 'x'\nVBoxManage: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001), component MachineWrap\n").details).toMatchObject({
      kind: 'VirtualBox object',
      id: 'x',
    });
  });
});
