import { InvalidArgumentError, type NetworkInfo } from '@virtplug/core';

const MAC = /^([0-9a-f]{2})([:-]?)([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[\u0000-\u001f\u007f]/;
const MAX_NICS = 8;

/** VirtualBox wants MACs as 12 hex digits without separators. */
export function vboxMac(mac: string): string {
  const m = MAC.exec(mac.trim());
  if (!m) throw new InvalidArgumentError('VIF MAC address', mac, 'six hex octets such as 08:00:27:E5:FA:8F');
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join('').toUpperCase();
}

/**
 * Flat networking: each VIF becomes a NIC bridged to its network's host bridge (`--nic<i> bridged
 * --bridgeadapter<i> <bridge>`) with the VIF's MAC; a VIF on a network without a bridge gets NAT. With
 * no VIFs the instance gets one NAT NIC, so a guest can still reach out. VLAN segments are refused:
 * VirtualBox bridges untagged.
 */
export function nicArgs(networkInfo: NetworkInfo | undefined): string[] {
  const vifs = networkInfo ?? [];
  if (vifs.length === 0) return ['--nic1', 'nat', '--nictype1', '82540EM', '--cableconnected1', 'on'];
  if (vifs.length > MAX_NICS) throw new InvalidArgumentError('number of VIFs', vifs.length, `at most ${MAX_NICS} (VirtualBox NIC slots)`);
  const args: string[] = [];
  vifs.forEach((vif, i) => {
    const n = i + 1;
    if (vif.network.segmentType !== 'flat') {
      throw new InvalidArgumentError(`network type of VIF ${vif.id}`, vif.network.segmentType, 'flat (the VirtualBox driver supports flat networking only)');
    }
    const bridge = vif.network.bridge;
    if (bridge !== undefined && (bridge.trim() === '' || BAD_NAME.test(bridge))) {
      throw new InvalidArgumentError(`bridge of network ${vif.network.id}`, bridge, 'a host interface name');
    }
    args.push(...(bridge ? [`--nic${n}`, 'bridged', `--bridgeadapter${n}`, bridge] : [`--nic${n}`, 'nat']));
    args.push(`--nictype${n}`, '82540EM', `--macaddress${n}`, vboxMac(vif.address), `--cableconnected${n}`, 'on');
  });
  return args;
}
