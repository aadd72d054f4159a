import { formatNode, secretObject } from '../backends/blockdev.js';
import type { ExportRequest } from './port.js';
import { DaemonExporter } from './daemon-exporter.js';

/**
 * qemu-storage-daemon: one daemon per export, NBD server bound to the segment address only. It
 * daemonizes after the socket is listening, so a zero exit means the export is reachable.
 */
export class QsdExporter extends DaemonExporter {
  readonly name = 'qsd';
  protected readonly program = 'qemu-storage-daemon';

  protected args(req: ExportRequest): string[] {
    return [
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
  }
}
