import { resolve } from 'node:path';
import { ExecaProcessRunner, OperationFailedError, type ProcessRunner } from '@virtplug/core';

export interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

export interface ChainLayer {
  filename: string;
  format: string;
  virtualSize: number;
}

/** qemu-img, qemu-io and cp through the core ProcessRunner (argv arrays, never a shell). */
export class QemuImg {
  constructor(private readonly runner: ProcessRunner = new ExecaProcessRunner()) {}

  private async run(file: string, args: string[], timeoutMs = 600_000): Promise<string> {
    const r = await this.runner.run(file, args, { timeoutMs });
    if (r.spawnError) {
      throw new OperationFailedError(`${file} could not be started (${r.spawnError.message}); install qemu-utils (apt-get install qemu-utils).`, { file });
    }
    if (r.exitCode !== 0) {
      throw new OperationFailedError(`${file} ${args.join(' ')} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim() || r.stdout.trim()}`, {
        file,
        args,
      });
    }
    return r.stdout;
  }

  /** The backing chain, top first, with absolute file names. */
  async chain(path: string): Promise<ChainLayer[]> {
    const out = JSON.parse(await this.run('qemu-img', ['info', '--backing-chain', '--output=json', '-U', path])) as Array<Record<string, unknown>>;
    return out.map((x) => ({ filename: resolve(String(x.filename)), format: String(x.format), virtualSize: Number(x['virtual-size']) }));
  }

  async map(path: string, format?: string): Promise<MapEntry[]> {
    const args = ['map', '--output=json', '-U', ...(format ? ['-f', format] : []), path];
    return JSON.parse(await this.run('qemu-img', args)) as MapEntry[];
  }

  async convert(src: string, srcFormat: string, dest: string, destFormat: 'raw' | 'qcow2', opts: string[] = []): Promise<void> {
    await this.run('qemu-img', ['convert', '-U', '-f', srcFormat, '-O', destFormat, ...opts, src, dest]);
  }

  async create(path: string, format: 'qcow2' | 'raw', sizeBytes: number, options: string[] = []): Promise<void> {
    await this.run('qemu-img', ['create', '-q', '-f', format, ...(options.length ? ['-o', options.join(',')] : []), path, String(sizeBytes)]);
  }

  /** Points `path` at a new backing file without touching data (qemu-img rebase -u). */
  async rebaseUnsafe(path: string, backing: string, backingFormat: string): Promise<void> {
    await this.run('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-b', backing, '-F', backingFormat, path]);
  }

  /**
   * Copies keeping holes (a RAM image of a fresh guest is mostly zeros) and reflinking where the
   * filesystem can: several times faster than a plain copy of a 256 MiB RAM file.
   */
  async copySparse(src: string, dest: string): Promise<void> {
    await this.run('cp', ['--sparse=always', '--reflink=auto', '--', src, dest]);
  }

  /** Writes zero ranges as qcow2 zero clusters; batched into few qemu-io invocations. */
  async writeZeroes(path: string, ranges: ReadonlyArray<readonly [number, number]>): Promise<void> {
    for (let i = 0; i < ranges.length; i += 500) {
      const cmds = ranges.slice(i, i + 500).flatMap(([off, len]) => ['-c', `write -z -q ${off} ${len}`]);
      await this.run('qemu-io', ['-f', 'qcow2', ...cmds, path]);
    }
  }
}
