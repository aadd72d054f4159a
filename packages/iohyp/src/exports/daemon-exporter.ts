import { OperationFailedError, type ProcessRunner } from '@virtplug/core';
import { runChecked } from '../util/run.js';
import type { ExportRequest, Exporter } from './port.js';
import { processIs, readPidFile, terminate } from './process.js';

/**
 * An NBD server that daemonizes once its socket is bound and leaves a pid file: starting it, checking
 * it really runs, stopping and probing it are the same for every such program; only the argv differs.
 */
export abstract class DaemonExporter implements Exporter {
  abstract readonly name: string;
  protected abstract readonly program: string;

  constructor(
    protected readonly runner: ProcessRunner,
    protected readonly initiatorIqn: string,
  ) {}

  protected abstract args(req: ExportRequest): string[];

  async start(req: ExportRequest): Promise<{ pid: number }> {
    await runChecked(this.runner, this.program, this.args(req), { what: `export ${req.name} on ${req.host}:${req.port}`, timeoutMs: 30_000 });
    const pid = readPidFile(req.pidFile);
    if (!pid || !processIs(pid, this.program)) {
      throw new OperationFailedError(`${this.program} for ${req.name} exited right after starting; see the agent log.`, { pidFile: req.pidFile });
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
