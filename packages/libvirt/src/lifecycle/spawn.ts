import { randomInt } from 'node:crypto';
import { ConflictError, InvalidArgumentError, PowerState, type ImageMeta, type Instance, type InstanceInfo, type NetworkInfo, type SpawnOptions } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import type { DomainSpec, InterfaceSpec } from '../xml/domain-spec.js';
import { buildDomainTree } from '../xml/build.js';
import { serializeXml } from '../xml/tree.js';
import { validateDomainName, validateUuid } from '../xml/names.js';

const GIB = 1024 ** 3;
/** SPICE tickets have no VNC-style 8-character limit. */
export const SPICE_PASSWORD_LENGTH = 16;
const VNC_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export function vncPassword(length: number): string {
  return Array.from({ length }, () => VNC_ALPHABET[randomInt(VNC_ALPHABET.length)]).join('');
}

export function interfacesFor(networkInfo: NetworkInfo | undefined, defaultNetwork: string): InterfaceSpec[] {
  return (networkInfo ?? []).map((vif) => {
    const base = { mac: vif.address, ...(vif.devName ? { devName: vif.devName } : {}) };
    if (vif.network.bridge) {
      return { kind: 'bridge' as const, bridge: vif.network.bridge, ...base, ...(vif.network.segmentType === 'vlan' && vif.network.segmentationId !== undefined ? { openvswitch: true, vlanTag: vif.network.segmentationId } : {}) };
    }
    if (defaultNetwork) return { kind: 'network' as const, network: defaultNetwork, ...base };
    throw new InvalidArgumentError(`network of VIF ${vif.id}`, vif.network.id, 'a network with a bridge, or set [libvirt] default_network to a libvirt network');
  });
}

/** The domain spec for a new instance on top of its overlay (exported for tests and the VMS package). */
export function specFor(deps: LibvirtDriverDeps, instance: Instance, image: ImageMeta, boot: { disk: string; kernel?: string; initrd?: string }): DomainSpec {
  const c = deps.config;
  const password = instance.adminPassword ? instance.adminPassword.slice(0, 8) : vncPassword(c.vnc_password_length);
  return {
    type: c.domain_type,
    name: instance.name,
    uuid: instance.uuid.toLowerCase(),
    memoryKb: instance.flavor.memoryMb * 1024,
    vcpus: instance.flavor.vcpus,
    os: { machine: c.machine_type, ...(boot.kernel ? { kernel: boot.kernel } : {}), ...(boot.initrd ? { initrd: boot.initrd } : {}), ...(image.cmdline !== undefined ? { cmdline: image.cmdline } : {}) },
    cpuMode: c.cpu_mode,
    disks: [{ kind: 'file', path: boot.disk, format: 'qcow2', target: 'vda', bus: 'virtio', cache: c.disk_cachemodes }],
    interfaces: interfacesFor(instance.networkInfo, c.default_network),
    serialLog: deps.files.consoleLog(instance.uuid),
    agentSocket: deps.files.agentSocket(instance.uuid),
    ...(c.vnc_enabled ? { vnc: { listen: c.console_listen, password } } : {}),
    // Its own password, never the admin password: a SPICE console must not reveal a login secret.
    ...(c.spice_enabled ? { spice: { listen: c.console_listen, password: vncPassword(SPICE_PASSWORD_LENGTH) } } : {}),
    memballoon: true,
  };
}

function validateInstance(instance: Instance): void {
  validateDomainName(instance.name);
  validateUuid(instance.uuid);
  const f = instance.flavor;
  if (!f || !(f.memoryMb > 0) || !Number.isInteger(f.memoryMb)) throw new InvalidArgumentError('flavor memoryMb', f?.memoryMb, 'a positive integer');
  if (!(f.vcpus > 0) || !Number.isInteger(f.vcpus)) throw new InvalidArgumentError('flavor vcpus', f.vcpus, 'a positive integer');
}

/**
 * Spawn: cached base → per-instance overlay → domain XML → define → start. A failure at any step
 * undoes the ones before it (domain and instance directory), so nothing of the instance is left; the
 * cached base stays, as it belongs to the image, not the instance.
 */
export async function spawn(deps: LibvirtDriverDeps, instance: Instance, image: ImageMeta, options: SpawnOptions = {}): Promise<InstanceInfo> {
  validateInstance(instance);
  const uuid = instance.uuid.toLowerCase();
  const { transport, files, logger } = deps;
  if (await transport.find(uuid)) throw new ConflictError(`An instance with UUID ${uuid} already exists; destroy it first or use another UUID.`, { uuid });
  const sameName = await transport.lookupByName(instance.name);
  if (sameName) throw new ConflictError(`A domain named ${JSON.stringify(instance.name)} already exists (UUID ${sameName.uuid}); pick another name.`, { name: instance.name });
  if (await files.exists(uuid)) throw new ConflictError(`${files.dir(uuid)} already exists but no domain uses it; remove it or use another UUID.`, { uuid });

  const base = await deps.images.ensure(image);
  let defined = false;
  try {
    await files.create(uuid);
    const size = Math.max(base.virtualSize, (instance.flavor.rootGb || 0) * GIB);
    await deps.qemuImg.createOverlay(files.disk(uuid), base.disk, base.format, size > base.virtualSize ? size : undefined);
    // Nova hands network_info to spawn; an instance may also carry its own.
    const withNetwork = options.networkInfo ? { ...instance, networkInfo: options.networkInfo } : instance;
    const spec = specFor(deps, withNetwork, image, { disk: files.disk(uuid), ...(base.kernel ? { kernel: base.kernel } : {}), ...(base.initrd ? { initrd: base.initrd } : {}) });
    const tree = buildDomainTree(spec, {
      flavor: instance.flavor,
      image: { id: image.id, name: image.name, diskFormat: image.diskFormat },
      createdAt: new Date().toISOString(),
      extra: { ...(instance.metadata ?? {}) },
    });
    // VM streaming, shared mode: the domain's RAM becomes a shared tmpfs file, so bless need not copy it into the image.
    deps.vmsHooks?.prepareSpawnXml(tree, uuid);
    const xml = serializeXml(tree);
    await transport.define(xml);
    defined = true;
    deps.domains.markManaged(uuid);
    if (options.powerOn !== false) await transport.start(uuid);
  } catch (e) {
    logger.warn({ uuid, name: instance.name, err: (e as Error).message }, 'spawn failed; removing what it created');
    if (defined) {
      await transport.destroy(uuid).catch(() => undefined);
      await transport.undefine(uuid, { removeAll: true }).catch((u: unknown) => logger.error({ uuid, err: (u as Error).message }, 'could not undefine after a failed spawn'));
      deps.domains.forget(uuid);
    }
    await files.remove(uuid).catch(() => undefined);
    throw e;
  }
  const info = await deps.domains.instanceInfo(instance);
  deps.events.observe(instance, info.state === PowerState.NOSTATE ? undefined : info.state);
  logger.info({ uuid, name: instance.name, image: image.id }, 'spawned');
  return info;
}
