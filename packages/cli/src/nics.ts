import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidArgumentError, type SegmentType, type Vif } from '@virtplug/core';

const KEYS = ['bridge', 'segment', 'cidr', 'mac', 'ip', 'id'] as const;

/**
 * `--nic bridge=br0[,segment=vlan:100|vxlan:300|flat][,cidr=10.88.100.0/24][,ip=10.88.100.10/24][,mac=…]`:
 * one VIF of the instance, as Neutron would describe its port (segment = provider network type and
 * segmentation id, which is what I/O-hypervisor routing keys on).
 */
export function parseNic(spec: string): Vif {
  const kv: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    const key = part.slice(0, i);
    if (i <= 0 || !(KEYS as readonly string[]).includes(key)) throw new InvalidArgumentError('--nic', spec, `comma-separated key=value with keys ${KEYS.join(', ')}`);
    kv[key] = part.slice(i + 1);
  }
  if (!kv.bridge) throw new InvalidArgumentError('--nic', spec, 'a bridge=NAME to plug the NIC into');
  const seg = /^(flat|vlan|vxlan):?(\d*)$/.exec(kv.segment ?? 'flat');
  if (!seg || (seg[1] !== 'flat' && !seg[2])) throw new InvalidArgumentError('--nic segment', kv.segment, 'flat, vlan:<id> or vxlan:<vni>');
  const mac = kv.mac ?? `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new InvalidArgumentError('--nic mac', mac, 'a MAC like 52:54:00:12:34:56');
  return {
    id: kv.id ?? randomUUID(),
    address: mac.toLowerCase(),
    network: {
      id: `${kv.bridge}-${seg[1]}${seg[2] ?? ''}`,
      label: kv.bridge,
      segmentType: seg[1] as SegmentType,
      ...(seg[2] ? { segmentationId: Number(seg[2]) } : {}),
      bridge: kv.bridge,
      ...(kv.cidr ? { cidr: kv.cidr } : {}),
    },
    ...(kv.ip ? { fixedIps: [kv.ip] } : {}),
  };
}
