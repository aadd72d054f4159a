import { OperationFailedError, type ProcessRunner } from '@virtplug/core';
import { formatNode, secretObject } from '../backends/blockdev.js';
import { runChecked } from '../util/run.js';
import type { ExportRequest, Exporter } from './port.js';
import { processIs, readPidFile, terminate } from './process.js';

/**
 * qemu-storage-daemon: one daemon per export, NBD server bound to the segment address only. It
 * daemonizes after the socket is listening, so a zero exit means the export is reachable.
 */
export class QsdExporter implements Exporter {
  readonly name = 'qsd';
  private readonly program = 'qemu-storage-daemon';

  constructor(
    private readonly runner: ProcessRunner,
    private readonly initiatorIqn: string,
  ) {}

  async start(req: ExportRequest): Promise<{ pid: number }> {
    const args = [
      '--daemonize',
      '--pidfile',
      req.pidFile,
      ...(req.secretFile ? ['--object', secretObject(req.secretFile)] : []),
      '--blockdev',
      JSON.stringify(formatNode(req.spec, this.initiatorIqn, 'vol')),
      '--nbd-server',
      JSON.stringify({ addr: { type: 'inet', host: req.host, port: String(req.port) }, 'max-connections': 0 }),
      '--export',
      JSON.stringify({ type: 'nbd', id: 'exp0', 'node-name': 'vol', name: req.name, writable: true }),
    ];
    await runChecked(this.runner, this.program, args, { what: `export ${req.name} on ${req.host}:${req.port}`, timeoutMs: 30_000 });
    const pid = readPidFile(req.pidFile);
    if (!pid || !processIs(pid, this.program)) {
      throw new OperationFailedError(`qemu-storage-daemon for ${req.name} exited right after starting; see the agent log.`, { pidFile: req.pidFile });
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
