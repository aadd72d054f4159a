import { OperationFailedError, type ProcessRunner } from '@virtplug/core';
import { formatNode, secretObject } from '../backends/blockdev.js';
import { runChecked } from '../util/run.js';
import type { ExportRequest, Exporter } from './port.js';
import { processIs, readPidFile, terminate } from './process.js';

/** qemu-nbd, the reference's exporter: `--fork` returns once the socket is bound. */
export class QemuNbdExporter implements Exporter {
  readonly name = 'qemu-nbd';
  private readonly program = 'qemu-nbd';

  constructor(
    private readonly runner: ProcessRunner,
    private readonly initiatorIqn: string,
  ) {}

  async start(req: ExportRequest): Promise<{ pid: number }> {
    const args = [
      '--fork',
      `--pid-file=${req.pidFile}`,
      '--persistent',
      '--shared=16',
      `--bind=${req.host}`,
      `--port=${req.port}`,
      `--export-name=${req.name}`,
      '--cache=none',
      '--aio=threads',
      ...(req.secretFile ? ['--object', secretObject(req.secretFile)] : []),
      // The format node wraps the protocol node in the JSON itself: `--format=raw` with a json: filename
      // makes qemu-nbd look for a `file` child and fail ("A block device must be specified").
      `json:${JSON.stringify(withoutNodeName(formatNode(req.spec, this.initiatorIqn, 'vol')))}`,
    ];
    await runChecked(this.runner, this.program, args, { what: `export ${req.name} on ${req.host}:${req.port}`, timeoutMs: 30_000 });
    const pid = readPidFile(req.pidFile);
    if (!pid || !processIs(pid, this.program)) {
      throw new OperationFailedError(`qemu-nbd for ${req.name} exited right after starting; see the agent log.`, { pidFile: req.pidFile });
    }
    return { pid };
  }

  stop(pid: number, pidFile: string): Promise<void> {
    return terminate(pid, this.program, pidFile);
  }

  alive(pid: number): boolean {
    return processIs(pid, this.program);
  }
}

function withoutNodeName(node: Record<string, unknown>): Record<string, unknown> {
  const { 'node-name': _n, ...rest } = node;
  return rest;
}
