import { InvalidStateError, type NetworkInfo, type Vif } from '@virtplug/core';
import type { RouterSettings } from './config.js';
import type { Segment } from './model.js';
import { parseCidr } from './validate.js';

export interface RoutedVif {
  vif: Vif;
  segment: Segment;
  guestIp: string | null;
}

/**
 * The NIC whose segment carries the volume: the named network, else the first VLAN/VXLAN one
 * (nova-iorcl always took network_info[0], whatever it was).
 */
export function selectVif(networkInfo: NetworkInfo, instanceName: string, networkId?: string): RoutedVif {
  const candidates = networkId ? networkInfo.filter((v) => v.network.id === networkId) : networkInfo;
  if (networkId && candidates.length === 0) {
    throw new InvalidStateError(`Instance ${instanceName} has no NIC on network ${JSON.stringify(networkId)}; its networks: ${networkInfo.map((v) => v.network.id).join(', ') || 'none'}.`);
  }
  const vif = candidates.find((v) => (v.network.segmentType === 'vlan' || v.network.segmentType === 'vxlan') && v.network.segmentationId !== undefined);
  if (!vif) {
    throw new InvalidStateError(
      `Instance ${instanceName} has no NIC on a VLAN or VXLAN network with a segmentation id, which IOhyp routing needs (found: ${
        networkInfo.map((v) => `${v.network.id}:${v.network.segmentType}`).join(', ') || 'no NICs'
      }).`,
      { instance: instanceName },
    );
  }
  const segment: Segment = { type: vif.network.segmentType as Segment['type'], id: vif.network.segmentationId! };
  const ip = vif.fixedIps?.[0]?.split('/')[0] ?? null;
  return { vif, segment, guestIp: ip };
}

/** The IOhyp's address on a segment: configured per agent, else derived from the network's cidr. */
export function iohypAddress(settings: RouterSettings, agent: string, segment: Segment, cidr: string | undefined): string {
  const explicit = settings.addresses.get(`${agent}@${segment.type}:${segment.id}`);
  if (explicit) return explicit;
  const net = cidr ? parseCidr(cidr) : null;
  if (!net) {
    throw new InvalidStateError(
      `No address for IOhyp ${agent} on ${segment.type} ${segment.id}: set [iohyp] addresses (${agent}@${segment.type}:${segment.id}=IP/PREFIX) or give the network a cidr.`,
    );
  }
  // Sorted names, not the listing order: the same config in another order must give the same address.
  const order = settings.agents.map((a) => a.name).sort().indexOf(agent);
  const size = 2 ** (32 - net.prefix);
  const base = ipToInt(net.ip) & (size === 2 ** 32 ? 0 : ~(size - 1) >>> 0);
  const host = settings.addressIndex >= 0 ? settings.addressIndex + order : size + settings.addressIndex - order;
  if (host <= 0 || host >= size - 1) {
    throw new InvalidStateError(`[iohyp] address_index ${settings.addressIndex} falls outside ${cidr} for IOhyp ${agent}; set [iohyp] addresses explicitly.`);
  }
  return `${intToIp((base + host) >>> 0)}/${net.prefix}`;
}

/** Sources the export's ACL admits: the guest and the compute host's initiator address on the segment. */
export function exportAllowList(settings: RouterSettings, segment: Segment, guestIp: string | null): string[] | null {
  if (!settings.exportAcl) return null;
  const list = [...new Set([guestIp, settings.initiators.get(`${segment.type}:${segment.id}`)].filter((x): x is string => !!x))];
  return list.length > 0 ? list : null;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
