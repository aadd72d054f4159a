// Output exactly shaped like VBoxManage's: `VBoxManage: error:` lines with Details and Context, progress
// on stderr, exit code 1 for errors and 2 for syntax errors.
export const CODES = {
  VBOX_E_OBJECT_NOT_FOUND: '0x80bb0001',
  VBOX_E_INVALID_VM_STATE: '0x80bb0002',
  VBOX_E_VM_ERROR: '0x80bb0003',
  VBOX_E_FILE_ERROR: '0x80bb0004',
  VBOX_E_IPRT_ERROR: '0x80bb0005',
  VBOX_E_INVALID_OBJECT_STATE: '0x80bb0007',
  VBOX_E_NOT_SUPPORTED: '0x80bb0009',
  VBOX_E_OBJECT_IN_USE: '0x80bb000c',
  NS_ERROR_FAILURE: '0x80004005',
  NS_ERROR_INVALID_ARG: '0x80070057',
  E_ACCESSDENIED: '0x80070005',
};

export class VBoxError extends Error {
  /**
   * @param {string[]} lines message lines (without prefix)
   * @param {{code?: string, component?: string, iface?: string, callee?: string, context?: string, exitCode?: number, syntax?: boolean}} info
   */
  constructor(lines, info = {}) {
    super(lines.join('\n'));
    this.lines = lines;
    this.info = info;
  }

  render() {
    const i = this.info;
    if (i.syntax) return { stderr: `\nSyntax error: ${this.lines.join(' ')}\n`, exitCode: 2 };
    const out = this.lines.map((l) => `VBoxManage: error: ${l}`);
    if (i.code) {
      const callee = i.callee === null ? '' : `, callee ${i.callee ?? 'nsISupports'}`;
      out.push(`VBoxManage: error: Details: code ${i.code} (${CODES[i.code] ?? '0x80004005'}), component ${i.component ?? 'MachineWrap'}, interface ${i.iface ?? 'IMachine'}${callee}`);
    }
    if (i.context) out.push(`VBoxManage: error: Context: ${i.context}`);
    return { stderr: out.join('\n') + '\n', exitCode: i.exitCode ?? 1 };
  }
}

export const syntaxError = (msg) => new VBoxError([msg], { syntax: true });

export const PROGRESS = '0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n';

/** Quoting of --machinereadable: `"` and `\` escaped, newlines as \n. */
export function mrString(value) {
  return `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function mrLine(key, value, quoteKey = false) {
  const k = !quoteKey && /^[A-Za-z0-9_\-[\]/]+$/.test(key) ? key : mrString(key);
  return typeof value === 'number' ? `${k}=${value}` : `${k}=${mrString(value)}`;
}

/** VirtualBox's machine state names, as printed in error messages. */
export const STATE_NAMES = {
  poweroff: 'PoweredOff',
  running: 'Running',
  paused: 'Paused',
  saved: 'Saved',
  aborted: 'Aborted',
  gurumeditation: 'Stuck',
};

export const notFoundVm = (ref) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)
    ? new VBoxError([`Could not find a registered machine with UUID {${ref}}`], {
        code: 'VBOX_E_OBJECT_NOT_FOUND',
        component: 'VirtualBoxWrap',
        iface: 'IVirtualBox',
        context: '"FindMachine(Bstr(VMNameOrUuid).raw(), machine.asOutParam())" at line 3047 of file VBoxManageInfo.cpp',
      })
    : new VBoxError([`Could not find a registered machine named '${ref}'`], {
        code: 'VBOX_E_OBJECT_NOT_FOUND',
        component: 'VirtualBoxWrap',
        iface: 'IVirtualBox',
        context: '"FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())" at line 383 of file VBoxManageControlVM.cpp',
      });

export const lockedForSession = (name, file = 'VBoxManageModifyVM.cpp') =>
  new VBoxError([`The machine '${name}' is already locked for a session (or being unlocked)`], {
    code: 'VBOX_E_INVALID_OBJECT_STATE',
    context: `"LockMachine(a->session, LockType_Write)" at line 507 of file ${file}`,
  });

export const lockedBySession = (name) =>
  new VBoxError([`The machine '${name}' is already locked by a session (or being locked or unlocked)`], {
    code: 'VBOX_E_INVALID_OBJECT_STATE',
    context: '"LaunchVMProcess(a->session, sessionType.raw(), ComSafeArrayAsInParam(aBstrEnv), progress.asOutParam())" at line 726 of file VBoxManageMisc.cpp',
  });

export const invalidState = (state, must) =>
  new VBoxError([`Invalid machine state: ${STATE_NAMES[state] ?? state} (must be ${must})`], {
    code: 'VBOX_E_INVALID_VM_STATE',
    component: 'ConsoleWrap',
    iface: 'IConsole',
  });

export const notMutable = (state) =>
  new VBoxError([`The machine is not mutable (state is ${STATE_NAMES[state] ?? state})`], { code: 'VBOX_E_INVALID_VM_STATE' });

export const notRunning = (name) => new VBoxError([`Machine '${name}' is not currently running`]);
