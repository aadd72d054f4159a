import { InvalidStateError, type InstanceRef } from '@virtplug/core';
import type { Logger } from 'pino';
import { AgentClient } from './client.js';

/** One agent client per instance UUID: QEMU serves a single client on each channel socket. */
export class AgentPool {
  private readonly clients = new Map<string, AgentClient>();

  constructor(
    /** The agent socket path from the domain XML; throws where the domain has no agent channel. */
    private readonly socketPathOf: (uuid: string) => Promise<string | undefined>,
    private readonly logger?: Logger,
    private readonly defaultTimeoutMs = 10_000,
  ) {}

  get(instance: InstanceRef): AgentClient {
    const uuid = instance.uuid.toLowerCase();
    let client = this.clients.get(uuid);
    if (!client) {
      client = new AgentClient({
        label: `instance ${instance.name} (${uuid})`,
        defaultTimeoutMs: this.defaultTimeoutMs,
        ...(this.logger ? { logger: this.logger } : {}),
        socketPath: async () => {
          const path = await this.socketPathOf(uuid);
          if (!path) throw new InvalidStateError(`Instance ${instance.name} (${uuid}) has no org.virtplug.agent.0 channel in its domain XML; it was not created by virtplug.`);
          return path;
        },
      });
      this.clients.set(uuid, client);
    }
    return client;
  }

  /** Forgets an instance's client (after destroy), closing its connection. */
  async drop(uuid: string): Promise<void> {
    const client = this.clients.get(uuid.toLowerCase());
    this.clients.delete(uuid.toLowerCase());
    await client?.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
