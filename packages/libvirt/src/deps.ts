import { Hypervisor } from '@unraid/libvirt';
import type { InstanceRef, LifecycleTransition, ProcessRunner } from '@virtplug/core';
import type { Logger } from 'pino';
import { AgentClient, AgentPool } from './agent/index.js';
import type { ResolvedLibvirtConfig } from './config.js';
import type { LibvirtDriverDeps } from './context.js';
import { firstIpv4, iqnFor } from './host/host.js';
import { Domains } from './lifecycle/domains.js';
import { LifecycleEvents } from './lifecycle/events.js';
import { powerStateOf } from './lifecycle/state.js';
import { ImageCache, InstanceFiles, QemuImg, SnapshotStore } from './storage/index.js';
import { BindingTransport } from './transport/binding.js';
import { CompositeTransport } from './transport/composite.js';
import type { LibvirtTransport, Versions } from './transport/port.js';
import { requireLibvirtUri } from './transport/uri.js';
import { VirshTransport } from './transport/virsh.js';
import * as xml from './xml/index.js';

export interface BuildDepsOptions {
  config: ResolvedLibvirtConfig;
  runner: ProcessRunner;
  logger: Logger;
  driverName: string;
  emit: (instance: InstanceRef, transition: LifecycleTransition) => void;
  /** Replaces the binding (tests: an in-memory transport); `null` forces virsh for everything. */
  binding?: ConstructorParameters<typeof CompositeTransport>[0];
  /** Replaces virsh (tests). */
  virsh?: LibvirtTransport;
}

/** Wires the driver's pieces from its config; the driver holds the result and passes it to every operation. */
export function buildDeps(o: BuildDepsOptions): LibvirtDriverDeps {
  const { config, runner, logger } = o;
  const uri = requireLibvirtUri(config.connection_uri);
  const timeoutMs = config.op_timeout_seconds * 1000;
  const virsh = new VirshTransport(uri.uri, runner, timeoutMs, config.virsh_cmd);
  const binding =
    o.binding !== undefined ? o.binding : config.transport === 'virsh' ? null : new BindingTransport(uri.uri, timeoutMs, (u) => new Hypervisor({ uri: u }));
  const transport = new CompositeTransport(binding, o.virsh ?? virsh, uri.perConnectionState);
  const qemuImg = new QemuImg(runner, config.qemu_img_cmd);
  const domains = new Domains(transport, config.manage_all_domains);
  const files = new InstanceFiles(config.instances_path);
  const agents = new AgentPool(async (uuid) => (await domains.view(uuid)).spec.agentSocket, logger);
  let versions: Promise<Versions> | undefined;
  let iqn: Promise<string> | undefined;
  const events = new LifecycleEvents(
    o.emit,
    async () => {
      const managed = await domains.listManaged();
      const saved = new Set((await transport.listManagedSave()).map((u) => u.toLowerCase()));
      const out = await Promise.all(
        managed.map(async (d) => {
          const info = await transport.getInfo(d.uuid).catch(() => undefined);
          if (!info) return undefined;
          return { ...d, state: powerStateOf(info.state, saved.has(d.uuid)) };
        }),
      );
      return out.filter((d): d is NonNullable<typeof d> => !!d);
    },
    config.event_poll_interval * 1000,
    logger,
  );
  return {
    config,
    uri,
    transport,
    virsh,
    runner,
    logger,
    xml,
    qemuImg,
    images: new ImageCache(qemuImg, config.images_path),
    snapshots: new SnapshotStore(qemuImg, config.images_path),
    files,
    domains,
    agents,
    agentFor: (instance) => agents.get(instance),
    agentAt: (socketPath, label) => new AgentClient({ socketPath: async () => socketPath, label, logger }),
    events,
    versions: () => (versions ??= transport.versions().catch((e: unknown) => {
      versions = undefined;
      throw e;
    })),
    initiatorIqn: () => (iqn ??= config.iscsi_initiator_iqn ? Promise.resolve(config.iscsi_initiator_iqn) : transport.hostname().then(iqnFor)),
    myIp: () => config.my_ip || firstIpv4(),
    driverName: o.driverName,
  };
}
