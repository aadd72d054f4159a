import type { ProcessRunner } from '@virtplug/core';
import type { Logger } from 'pino';
import type { AgentClient, AgentPool } from './agent/index.js';
import type { ResolvedLibvirtConfig } from './config.js';
import type { Domains } from './lifecycle/domains.js';
import type { LifecycleEvents } from './lifecycle/events.js';
import type { ImageCache, InstanceFiles, QemuImg, SnapshotStore } from './storage/index.js';
import type { CompositeTransport } from './transport/composite.js';
import type { Versions } from './transport/port.js';
import type { LibvirtUri } from './transport/uri.js';
import type { VirshTransport } from './transport/virsh.js';
import type * as xml from './xml/index.js';
import type { XmlElement } from './xml/tree.js';
import type { InstanceRef } from '@virtplug/core';

/**
 * Everything the driver's pieces share, built once in the driver's constructor. Packages inside
 * @virtplug/libvirt that extend the driver (src/vms/) receive it from `driver.internals()`.
 */
export interface LibvirtDriverDeps {
  config: ResolvedLibvirtConfig;
  uri: LibvirtUri;
  /** Binding + virsh, routed per call (transport/routes.ts). Use this for libvirt calls. */
  transport: CompositeTransport;
  /** virsh directly, for commands the port does not model: `virsh.run(['domjobinfo', uuid])`. */
  virsh: VirshTransport;
  runner: ProcessRunner;
  logger: Logger;
  /** Domain XML: parse/serialize/build/read, metadata helpers, name and UUID validation. */
  xml: typeof xml;
  qemuImg: QemuImg;
  images: ImageCache;
  snapshots: SnapshotStore;
  files: InstanceFiles;
  domains: Domains;
  agents: AgentPool;
  /** The shared agent client of an instance (one per instance: QEMU serves one client per socket). */
  agentFor(instance: { uuid: string; name: string }): AgentClient;
  /** A new, unshared agent client on a given channel socket (e.g. a clone's, before it is an instance). */
  agentAt(socketPath: string, label: string): AgentClient;
  events: LifecycleEvents;
  /** libvirt/hypervisor versions, fetched once per driver. */
  versions(): Promise<Versions>;
  /** The iSCSI initiator IQN QEMU presents ([libvirt] iscsi_initiator_iqn or derived from the hostname). */
  initiatorIqn(): Promise<string>;
  /** This host's IP ([libvirt] my_ip or the first non-loopback IPv4). */
  myIp(): string;
  driverName: string;
  /** Set by src/vms/attach.ts: VM streaming's part in spawn and destroy. */
  vmsHooks?: {
    prepareSpawnXml(domain: XmlElement, uuid: string): void;
    /** Before redefining with a new <memory>: the RAM backend object must say the same size. */
    prepareMemoryChange(domain: XmlElement): void;
    beforeDestroy(ref: InstanceRef): Promise<void>;
    afterDestroy(ref: InstanceRef): Promise<void>;
  };
}
