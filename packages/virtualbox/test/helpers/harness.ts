import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ExecaProcessRunner, opt, readSection, fromInline, type ProcessRunner, type RunOptions, type RunResult } from '@virtplug/core';
import { VirtualBoxDriver } from '../../src/driver.js';
import { RDP_SECTION, VIRTUALBOX_SECTION, resolveSettings } from '../../src/config.js';
import { replayHarnessPath } from '../../src/index.js';
import { writeQcow2Header } from '../../src/smoke.js';

export interface HarnessCall {
  argv: string[];
  pid: number;
  t: number;
  env: { LANG: string | null; LC_ALL: string | null };
}

export interface Fault {
  command: string;
  action?: string;
  match?: string;
  error?: string;
  hang?: boolean;
  times?: number;
}

/** A ProcessRunner that adds env to every call and records argv (what the driver sent, exactly). */
export class RecordingRunner implements ProcessRunner {
  readonly calls: string[][] = [];
  constructor(
    private readonly inner: ProcessRunner,
    private readonly env: Record<string, string>,
  ) {}

  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...args]);
    return this.inner.run(file, args, { ...options, env: { ...this.env, ...(options.env ?? {}) } });
  }

  /** Calls whose argv (after --nologo) starts with the given words. */
  find(...prefix: string[]): string[][] {
    return this.calls.map((c) => c.slice(1)).filter((c) => prefix.every((p, i) => c[i] === p));
  }

  clear(): void {
    this.calls.length = 0;
  }
}

/** One fake VirtualBox: its home (state, control.json, calls.log) and a scratch dir. */
export class Harness {
  readonly root = mkdtempSync(join(tmpdir(), 'vp-vbox-'));
  readonly home = join(this.root, 'home');
  readonly instances = join(this.root, 'instances');
  readonly images = join(this.root, 'images');
  readonly cmd = replayHarnessPath();
  readonly runner: RecordingRunner;

  constructor() {
    mkdirSync(this.home, { recursive: true });
    this.runner = new RecordingRunner(new ExecaProcessRunner(), { FAKE_VBOX_HOME: this.home });
  }

  control(patch: Record<string, unknown>): void {
    const file = join(this.home, 'control.json');
    const current = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(file, JSON.stringify({ ...current, ...patch }));
  }

  faults(faults: Fault[]): void {
    this.control({ faults });
  }

  calls(): HarnessCall[] {
    const file = join(this.home, 'calls.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HarnessCall);
  }

  /** The fake's registry, for checks a real backend would answer through its own tools. */
  state(): { vms: Record<string, any>; media: Record<string, any>; props: Record<string, string> } {
    const file = join(this.home, 'state.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { vms: {}, media: {}, props: {} };
  }

  driver(virtualbox: Record<string, unknown> = {}, rdp: Record<string, unknown> = {}, defaults: Record<string, unknown> = {}): VirtualBoxDriver {
    return makeDriver(this.runner, {
      vboxmanage_cmd: this.cmd,
      instances_path: this.instances,
      images_path: this.images,
      retry_interval: '0.05',
      ...virtualbox,
    }, rdp, defaults);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function makeDriver(
  runner: ProcessRunner,
  virtualbox: Record<string, unknown>,
  rdp: Record<string, unknown> = {},
  defaults: Record<string, unknown> = {},
): VirtualBoxDriver {
  const config = fromInline({ virtualbox, rdp, DEFAULT: defaults });
  const settings = resolveSettings(
    readSection(config, 'virtualbox', VIRTUALBOX_SECTION),
    readSection(config, 'rdp', RDP_SECTION),
    '/nonexistent-state-path',
    readSection(config, 'DEFAULT', { use_cow_images: opt.bool(true, '') }).use_cow_images,
  );
  return new VirtualBoxDriver(settings, runner, pino({ level: process.env.VP_TEST_LOG ?? 'silent' }));
}

/** A minimal QCOW2 file VirtualBox (and the harness) can identify. */
export const writeQcow2 = writeQcow2Header;
