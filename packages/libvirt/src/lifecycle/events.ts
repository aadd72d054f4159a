import type { InstanceRef, LifecycleTransition, PowerState } from '@virtplug/core';
import type { Logger } from 'pino';
import { transitionFor } from './state.js';

export type Emit = (instance: InstanceRef, transition: LifecycleTransition) => void;

/**
 * Lifecycle events from two sources that must not double up: the driver's own operations (reported
 * right away through `observe`) and a poll of libvirt for changes made elsewhere (a guest powering
 * itself off, `virsh` by hand). Both go through the same last-known-state map, so a change is emitted
 * once. Polling runs only while someone listens. The binding cannot deliver libvirt's domain events,
 * and `virsh event --loop` would be one long-lived process per driver; a poll of list+getInfo through
 * the binding costs well under a millisecond per domain.
 */
export class LifecycleEvents {
  private readonly known = new Map<string, { name: string; state: PowerState }>();
  /** Domains a driver operation is changing right now: their passing states are not events. */
  private readonly busy = new Map<string, number>();
  /** A change one poll saw; it becomes an event when the next poll sees it too (libvirt shows a
   * starting domain as paused for a moment, and that is not a pause). */
  private readonly pending = new Map<string, PowerState | 'gone'>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly emit: Emit,
    private readonly poll: () => Promise<Array<{ uuid: string; name: string; state: PowerState }>>,
    private readonly intervalMs: number,
    private readonly logger?: Logger,
  ) {}

  /** Records a state the driver just caused or saw; emits when it differs from the last one. */
  observe(instance: InstanceRef, state: PowerState | undefined): void {
    const uuid = instance.uuid.toLowerCase();
    const prev = this.known.get(uuid)?.state;
    if (state === undefined) this.known.delete(uuid);
    else this.known.set(uuid, { name: instance.name, state });
    const t = transitionFor(prev, state);
    if (t) this.emit({ uuid, name: instance.name }, t);
  }

  /** Runs a driver operation on `instance`; polls leave the instance alone until it is done. */
  async during<T>(instance: InstanceRef, fn: () => Promise<T>): Promise<T> {
    const uuid = instance.uuid.toLowerCase();
    this.busy.set(uuid, (this.busy.get(uuid) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.busy.get(uuid) ?? 1) - 1;
      if (n > 0) this.busy.set(uuid, n);
      else this.busy.delete(uuid);
      this.pending.delete(uuid);
    }
  }

  /** Emits an explicit transition that leaves the state unchanged (hard reboot: STOPPED then STARTED). */
  pulse(instance: InstanceRef, transitions: LifecycleTransition[]): void {
    for (const t of transitions) this.emit({ uuid: instance.uuid.toLowerCase(), name: instance.name }, t);
  }

  private confirm(instance: InstanceRef, state: PowerState | undefined): void {
    const uuid = instance.uuid.toLowerCase();
    if (this.known.get(uuid)?.state === state) {
      this.pending.delete(uuid);
      return;
    }
    const mark = state ?? 'gone';
    if (this.pending.get(uuid) === mark) {
      this.pending.delete(uuid);
      this.observe(instance, state);
    } else this.pending.set(uuid, mark);
  }

  start(): void {
    if (this.timer || !(this.intervalMs > 0)) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
    void this.tick(true);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(initial = false): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const seen = await this.poll();
      const present = new Set<string>();
      for (const d of seen) {
        present.add(d.uuid);
        if (this.busy.has(d.uuid)) continue;
        if (initial && !this.known.has(d.uuid)) this.known.set(d.uuid, { name: d.name, state: d.state });
        else this.confirm(d, d.state);
      }
      for (const [uuid, k] of [...this.known]) if (!present.has(uuid) && !this.busy.has(uuid)) this.confirm({ uuid, name: k.name }, undefined);
    } catch (e) {
      this.logger?.debug({ err: (e as Error).message }, 'lifecycle poll failed; will retry');
    } finally {
      this.polling = false;
    }
  }
}
