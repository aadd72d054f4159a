import { HypervisorUnavailableError, NotFoundError, OperationFailedError, TimeoutError, type ProcessRunner } from '@virtplug/core';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
}

/** Formats as qemu-img names them (Glance's `vhd` is QEMU's `vpc`). */
export function qemuFormat(diskFormat: string): string {
  return diskFormat === 'vhd' ? 'vpc' : diskFormat;
}

/** qemu-img through the ProcessRunner: argv arrays, a timeout per call, failures as core errors. */
export class QemuImg {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly cmd = 'qemu-img',
    private readonly timeoutMs = 600_000,
  ) {}

  private async run(args: string[], subject?: string): Promise<string> {
    const r = await this.runner.run(this.cmd, args, { timeoutMs: this.timeoutMs });
    if (r.spawnError) throw new HypervisorUnavailableError(`Cannot run ${this.cmd} (${r.spawnError.message}); install qemu-utils.`, { op: args[0] });
    if (r.timedOut) throw new TimeoutError(`${this.cmd} ${args[0]}`, this.timeoutMs);
    if (r.exitCode !== 0) {
      const msg = r.stderr.trim() || r.stdout.trim();
      if (subject && /No such file or directory|Could not open/.test(msg)) throw new NotFoundError('Disk image', subject, msg);
      throw new OperationFailedError(`${this.cmd} ${args[0]} failed: ${msg}`, { args });
    }
    return r.stdout;
  }

  async info(path: string): Promise<ImageInfo> {
    // -U: the image may be open in a running QEMU; reading metadata without the lock is safe.
    const out = JSON.parse(await this.run(['info', '--output=json', '-U', path], path)) as Record<string, unknown>;
    return {
      format: String(out.format),
      virtualSize: Number(out['virtual-size']),
      ...(out['actual-size'] !== undefined ? { actualSize: Number(out['actual-size']) } : {}),
      ...(out['full-backing-filename'] || out['backing-filename'] ? { backingFile: String(out['full-backing-filename'] ?? out['backing-filename']) } : {}),
    };
  }

  /** A qcow2 overlay on `backing`; `sizeBytes` grows the virtual disk beyond the backing's size. */
  async createOverlay(path: string, backing: string, backingFormat: string, sizeBytes?: number): Promise<void> {
    await this.run(['create', '-q', '-f', 'qcow2', '-F', qemuFormat(backingFormat), '-b', backing, path, ...(sizeBytes ? [String(sizeBytes)] : [])], backing);
  }

  async create(path: string, format: 'qcow2' | 'raw', sizeBytes: number): Promise<void> {
    await this.run(['create', '-q', '-f', format, path, String(sizeBytes)]);
  }

  async resize(path: string, sizeBytes: number): Promise<void> {
    await this.run(['resize', '-q', '-f', 'qcow2', path, String(sizeBytes)], path);
  }

  /** Copies `src` (and its backing chain) into one standalone image. `forceShare` reads a disk a running QEMU holds. */
  async convert(src: string, dst: string, options: { srcFormat?: string; dstFormat?: string; forceShare?: boolean } = {}): Promise<void> {
    await this.run(
      [
        'convert',
        ...(options.forceShare ? ['-U'] : []),
        ...(options.srcFormat ? ['-f', qemuFormat(options.srcFormat)] : []),
        '-O',
        options.dstFormat ?? 'qcow2',
        src,
        dst,
      ],
      src,
    );
  }
}
