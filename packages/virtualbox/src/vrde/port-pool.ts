import { ConflictError } from '@virtplug/core';
import { parsePortSpec } from './port-spec.js';

/**
 * VRDE ports from `vrde_port`. Unique mode (nova's `vrde_unique_port`): each instance holds its own
 * port, lowest free first, until it is released on power off or destroy; running out is an error that
 * says which setting to widen. Shared mode: instances get the ports round-robin and may share one
 * (the console proxy then routes by instance name).
 */
export class VrdePortPool {
  readonly ports: number[];
  private readonly held = new Map<string, number>();
  private next = 0;

  constructor(
    readonly spec: string,
    readonly unique: boolean,
  ) {
    // parsePortSpec sorts descending (nova); allocation walks them lowest first.
    this.ports = parsePortSpec(spec).sort((a, b) => a - b);
    if (this.ports.length === 0) throw new ConflictError(`[virtualbox] vrde_port ${JSON.stringify(spec)} names no usable port.`);
  }

  /** The port an instance holds, if any. */
  portOf(uuid: string): number | undefined {
    return this.held.get(uuid);
  }

  /** Records ports found on the hypervisor (instances started by an earlier process). */
  seed(uuid: string, port: number): void {
    if (this.ports.includes(port)) this.held.set(uuid, port);
  }

  acquire(uuid: string): number {
    const mine = this.held.get(uuid);
    if (mine !== undefined) return mine;
    if (!this.unique) {
      const port = this.ports[this.next % this.ports.length]!;
      this.next++;
      this.held.set(uuid, port);
      return port;
    }
    const taken = new Set(this.held.values());
    const free = this.ports.find((p) => !taken.has(p));
    if (free === undefined) {
      throw new ConflictError(
        `No free VRDE port: all ${this.ports.length} port(s) of [virtualbox] vrde_port ${JSON.stringify(this.spec)} are held by other instances; ` +
          'widen vrde_port, or stop or destroy an instance that holds one.',
        { spec: this.spec, held: Object.fromEntries(this.held) },
      );
    }
    this.held.set(uuid, free);
    return free;
  }

  release(uuid: string): number | undefined {
    const port = this.held.get(uuid);
    this.held.delete(uuid);
    return port;
  }

  heldPorts(): Map<string, number> {
    return new Map(this.held);
  }
}
