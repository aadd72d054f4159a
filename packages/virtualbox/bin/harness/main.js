// Entry of the fake VBoxManage: global options, the logo, faults, then one command under the state lock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatch } from './commands.js';
import { faultError, takeFault } from './faults.js';
import { DEFAULT_VERSION, versionText } from './host.js';
import { VBoxError } from './output.js';
import { harnessHome, loadControl, loadState, logCall, saveState, withLock } from './state.js';

function logo(control) {
  const version = String(control.version ?? DEFAULT_VERSION).split(/[r_]/)[0];
  return `Oracle VM VirtualBox Command Line Management Interface Version ${version}\nCopyright (C) 2005-2024 Oracle and/or its affiliates\n\n`;
}

export function main(argv) {
  const home = harnessHome();
  logCall(home, argv);
  let args = argv;
  let nologo = false;
  while (args[0] === '--nologo' || args[0] === '-q') {
    nologo = true;
    args = args.slice(1);
  }
  const out = { stdout: '', stderr: '', exitCode: 0 };
  const fault = withLock(home, () => takeFault(home, loadControl(home), args));
  if (fault?.hang) {
    // A VBoxManage that never returns (VBoxSVC wedged): only a kill ends it.
    writeFileSync(join(home, 'hang.pid'), String(process.pid));
    setInterval(() => {}, 1 << 30);
    return;
  }
  const control = loadControl(home);
  if (args[0] === '--version' || args[0] === '-v' || args[0] === '-V') {
    process.stdout.write(versionText(control));
    return;
  }
  if (!nologo) out.stdout += logo(control);
  try {
    const result = withLock(home, () => {
      const state = loadState(home);
      if (fault) throw faultError(fault, state, args);
      const r = dispatch(state, control, args);
      saveState(home, state);
      return r;
    });
    out.stdout += result.stdout ?? '';
    out.stderr += result.stderr ?? '';
  } catch (e) {
    const rendered = e instanceof VBoxError ? e.render() : { stderr: `VBoxManage: error: ${e.message}\n`, exitCode: 1 };
    out.stderr += rendered.stderr;
    out.exitCode = rendered.exitCode;
  }
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
}
