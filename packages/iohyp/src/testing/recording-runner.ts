import type { ProcessRunner, RunOptions, RunResult } from '@virtplug/core';

export interface Call {
  file: string;
  args: string[];
  input?: string;
}

/** Records argv and answers from a handler: checks what would run, without running it. */
export class RecordingRunner implements ProcessRunner {
  readonly calls: Call[] = [];
  constructor(private readonly answer: (c: Call) => Partial<RunResult> = () => ({})) {}
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const call: Call = { file, args: [...args], ...(typeof options.input === 'string' ? { input: options.input } : {}) };
    this.calls.push(call);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...this.answer(call) };
  }
  commands(): string[] {
    return this.calls.map((c) => [c.file, ...c.args].join(' '));
  }
}
