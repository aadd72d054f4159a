// State of the fake VirtualBox: one JSON file under FAKE_VBOX_HOME, changed under a directory lock so
// concurrent fake VBoxManage processes behave like clients of one VBoxSVC.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export function harnessHome() {
  const home = process.env.FAKE_VBOX_HOME || join(tmpdir(), `fake-vboxmanage-${userInfo().uid}`);
  mkdirSync(home, { recursive: true });
  return home;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms) => Atomics.wait(sleeper, 0, 0, ms);

/** Runs fn holding HOME/.lock (mkdir is atomic); a lock older than 30 s is a crashed holder's. */
export function withLock(home, fn) {
  const lock = join(home, '.lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // vanished meanwhile
      }
      sleepSync(i < 50 ? 2 : 10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const EMPTY = () => ({ vms: {}, media: {}, props: { vrdeextpack: '' } });

export function loadState(home) {
  const file = join(home, 'state.json');
  if (!existsSync(file)) return EMPTY();
  return { ...EMPTY(), ...JSON.parse(readFileSync(file, 'utf8')) };
}

export function saveState(home, state) {
  const file = join(home, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1));
  renameSync(`${file}.tmp`, file);
}

/** control.json: faults, version, extension packs, guest behaviour. Written by tests or by hand. */
export function loadControl(home) {
  const file = join(home, 'control.json');
  const fromFile = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  return { faults: [], ...fromFile };
}

export function saveControl(home, control) {
  const file = join(home, 'control.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(control, null, 1));
  renameSync(`${file}.tmp`, file);
}

/** Every invocation, for tests that count calls or check argv and environment. */
export function logCall(home, argv) {
  const entry = { argv, pid: process.pid, t: Date.now(), env: { LANG: process.env.LANG ?? null, LC_ALL: process.env.LC_ALL ?? null } };
  appendFileSync(join(home, 'calls.log'), JSON.stringify(entry) + '\n');
}
