import { InvalidStateError, PowerState, powerStateName, type InstanceInfo, type InstanceRef } from '@virtplug/core';
import { DomainState, type LibvirtTransport } from '../transport/port.js';
import { pollUntil } from '../transport/timeout.js';
import { isUuid, validateUuid } from '../xml/names.js';
import { quickFacts, readDomain, type DomainView } from '../xml/read.js';
import { powerStateOf, vmStateOf } from './state.js';

/**
 * Reads about domains: typed views, Nova power states, InstanceInfo, and waits for a state. The one
 * place that knows a shut-off domain with a managed-save image is suspended, and which domains are
 * virtplug's (their `<metadata>` has our element; cached per UUID, since that never changes for a UUID
 * once defined).
 */
export class Domains {
  private readonly managed = new Map<string, boolean>();
  private pendingManagedSave: Promise<Set<string>> | undefined;

  constructor(
    private readonly transport: LibvirtTransport,
    private readonly manageAll: boolean,
  ) {}

  async view(uuid: string, options: { secure?: boolean; inactive?: boolean } = {}): Promise<DomainView> {
    return readDomain(await this.transport.getXml(validateUuid(uuid), options));
  }

  async hasManagedSave(uuid: string): Promise<boolean> {
    return (await this.managedSaveList()).has(uuid.toLowerCase());
  }

  /**
   * The binding has no virDomainHasManagedSaveImage, only a filtered list of all domains. Callers that
   * arrive in the same tick share one list call that starts after all of them (so none sees a state
   * older than its own call): getInfo on 1000 domains lists once, not 1000 times.
   */
  private managedSaveList(): Promise<Set<string>> {
    if (!this.pendingManagedSave) {
      const batch = new Promise<Set<string>>((resolve, reject) =>
        setImmediate(() => {
          if (this.pendingManagedSave === batch) this.pendingManagedSave = undefined;
          this.transport.listManagedSave().then((l) => resolve(new Set(l.map((u) => u.toLowerCase()))), reject);
        }),
      );
      this.pendingManagedSave = batch;
    }
    return this.pendingManagedSave;
  }

  async powerState(uuid: string): Promise<PowerState> {
    const info = await this.transport.getInfo(validateUuid(uuid));
    return powerStateOf(info.state, info.state === DomainState.SHUTOFF && (await this.hasManagedSave(uuid)));
  }

  async instanceInfo(ref: InstanceRef): Promise<InstanceInfo> {
    const uuid = validateUuid(ref.uuid);
    const [info, xml] = await Promise.all([this.transport.getInfo(uuid), this.transport.getXml(uuid)]);
    const facts = quickFacts(xml);
    const state = powerStateOf(info.state, info.state === DomainState.SHUTOFF && (await this.hasManagedSave(uuid)));
    return {
      uuid,
      name: facts.name,
      state,
      vmState: vmStateOf(state, facts.rescued),
      maxMemKb: info.maxMemKb,
      memKb: info.memKb,
      vcpus: info.vcpus,
      cpuTimeNs: info.cpuTimeNs,
      ...(facts.id !== undefined ? { internalId: String(facts.id) } : {}),
    };
  }

  /** Whether virtplug created this domain (or every domain counts, with manage_all_domains). */
  async isManaged(uuid: string): Promise<boolean> {
    if (this.manageAll) return true;
    const key = uuid.toLowerCase();
    const cached = this.managed.get(key);
    if (cached !== undefined) return cached;
    const view = await this.view(key).catch(() => undefined);
    const managed = view?.metadata !== undefined;
    if (view) this.managed.set(key, managed);
    return managed;
  }

  forget(uuid: string): void {
    this.managed.delete(uuid.toLowerCase());
  }

  markManaged(uuid: string): void {
    this.managed.set(uuid.toLowerCase(), true);
  }

  async listManaged(): Promise<Array<{ uuid: string; name: string }>> {
    const all = await this.transport.listDomains();
    const flags = await Promise.all(all.map((d) => this.isManaged(d.uuid)));
    return all.filter((_, i) => flags[i]).map((d) => ({ uuid: d.uuid.toLowerCase(), name: d.name }));
  }

  /** A managed domain by UUID or name (UUID first, as Nova's instance lookups). */
  async findManaged(idOrName: string): Promise<{ uuid: string; name: string } | undefined> {
    const byUuid = isUuid(idOrName) ? await this.transport.find(idOrName.toLowerCase()) : null;
    const ref = byUuid ?? (await this.transport.lookupByName(idOrName));
    if (!ref || !(await this.isManaged(ref.uuid))) return undefined;
    return { uuid: ref.uuid.toLowerCase(), name: ref.name };
  }

  /** Polls until the power state is one of `states`. */
  async waitFor(ref: InstanceRef, states: PowerState[], timeoutMs: number, what: string): Promise<PowerState> {
    return pollUntil(
      async () => {
        const s = await this.powerState(ref.uuid);
        return states.includes(s) ? s : undefined;
      },
      timeoutMs,
      `${what} of instance ${ref.name}`,
      250,
      `it should become ${states.map(powerStateName).join(' or ')}`,
    );
  }

  /** Throws InvalidStateError unless the instance is in one of `states`; returns the state. */
  async require(ref: InstanceRef, action: string, states: PowerState[]): Promise<PowerState> {
    const s = await this.powerState(ref.uuid);
    if (!states.includes(s)) {
      throw new InvalidStateError(
        `Cannot ${action} instance ${ref.name} while it is ${powerStateName(s)}; it must be ${states.map(powerStateName).join(' or ')}.`,
        { state: powerStateName(s), uuid: ref.uuid },
      );
    }
    return s;
  }
}
