import { formatNode, secretObject } from '../backends/blockdev.js';
import type { ExportRequest } from './port.js';
import { DaemonExporter } from './daemon-exporter.js';

/** qemu-nbd, the reference's exporter: `--fork` returns once the socket is bound. */
export class QemuNbdExporter extends DaemonExporter {
  readonly name = 'qemu-nbd';
  protected readonly program = 'qemu-nbd';

  protected args(req: ExportRequest): string[] {
    return [
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
  }
}

function withoutNodeName(node: Record<string, unknown>): Record<string, unknown> {
  const { 'node-name': _n, ...rest } = node;
  return rest;
}
