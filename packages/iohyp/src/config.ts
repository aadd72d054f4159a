import { isIPv4 } from 'node:net';
import { ConfigError, opt, readSection, type SectionSpec, type SectionValues, type VirtplugConfig } from '@virtplug/core';
import { parseCidr } from './validate.js';
import type { Segment, SegmentKind } from './model.js';

/**
 * `[iohyp]`: one section for the router (control side) and the agent (IOhyp side), so one file can
 * configure a whole lab. Router options come first; agent-only options are marked so.
 */
export const IOHYP_SECTION = {
  wrap: opt.str('libvirt', 'The compute driver the router wraps when loaded as compute_driver = @virtplug/iohyp.'),
  agents: opt.list([], 'IOhyp agents as name=url, e.g. hyp1=http://10.88.0.1:8686.'),
  token_file: opt.str('/etc/virtplug/iohyp.token', 'Bearer token shared by router and agents (a 0600 file, one line).'),
  state_dir: opt.optionalStr('Router records (routes, opt-ins); default <state_path>/iohyp.'),
  addresses: opt.list([], "The IOhyp's own address per segment, AGENT@TYPE:ID=IP/PREFIX (e.g. hyp1@vlan:100=10.88.100.1/24)."),
  address_index: opt.int(-2, 'Without an explicit address: host number in the network cidr (negative counts from the end; shifted by agent order).'),
  initiator_addresses: opt.list([], "The compute hosts' addresses per segment, TYPE:ID=IP: the NBD initiators the export ACL admits."),
  export_acl: opt.bool(true, 'Admit only the guest and initiator addresses on the segment interface (nftables).'),
  request_timeout_ms: opt.int(60_000, 'Timeout of one agent request.', { min: 100 }),
  tls_ca_file: opt.optionalStr("PEM CA bundle that signed the agents' certificates, for https:// agent URLs (default: the system CAs)."),
  // agent-only
  listen: opt.str('127.0.0.1:8686', 'Agent: address:port to serve HTTP/JSON on.'),
  agent_name: opt.str('iohyp', 'Agent: its name in status answers.'),
  tls_cert_file: opt.optionalStr('Agent: PEM certificate; with tls_key_file the agent serves HTTPS only (the token and CHAP secrets are then never in clear).'),
  tls_key_file: opt.optionalStr('Agent: PEM private key for tls_cert_file (mode 0600).'),
  agent_state_dir: opt.optionalStr('Agent: backends, exports, ports and secrets; default <state_path>/iohyp-agent.'),
  segment_backend: opt.oneOf(['auto', 'ovs', 'vlan', 'vxlan'], 'auto', 'Agent: VLAN segments via OVS or kernel 802.1Q (auto probes OVS first); vxlan = VXLAN segments only.'),
  ovs_db: opt.str('unix:/run/openvswitch/db.sock', 'Agent: ovsdb socket of the IOhyp switch.'),
  ovs_bridge: opt.str('br-io', "Agent: the OVS bridge carrying the tenants' 802.1Q trunk."),
  vlan_trunk: opt.str('eth1', 'Agent: the trunk device for kernel 802.1Q ports.'),
  vxlan_dev: opt.optionalStr('Agent: underlay device for VXLAN ports.'),
  vxlan_local: opt.optionalStr('Agent: underlay source address for VXLAN ports.'),
  vxlan_remotes: opt.list([], 'Agent: VTEPs of the compute hosts (head-end replication).'),
  vxlan_port: opt.int(4789, 'Agent: VXLAN UDP port.', { min: 1, max: 65535 }),
  nbd_port_min: opt.int(10900, 'Agent: first NBD export port.', { min: 1, max: 65535 }),
  nbd_port_max: opt.int(10999, 'Agent: last NBD export port.', { min: 1, max: 65535 }),
  exporter: opt.oneOf(['qsd', 'qemu-nbd'], 'qsd', 'Agent: qemu-storage-daemon or qemu-nbd per export.'),
  initiator_iqn: opt.optionalStr("Agent: the IOhyp's iSCSI initiator name; default iqn.2026-11.io.virtplug:<agent_name>."),
  file_roots: opt.list([], 'Agent: directories file backends may come from (none = file backends refused).'),
} satisfies SectionSpec;

export type IoHypSection = SectionValues<typeof IOHYP_SECTION>;

export interface AgentEndpoint {
  name: string;
  url: string;
}

export interface RouterSettings {
  agents: AgentEndpoint[];
  tokenFile: string;
  stateDir: string;
  addresses: Map<string, string>; // `${agent}@${type}:${id}` -> ip/prefix
  addressIndex: number;
  initiators: Map<string, string>; // `${type}:${id}` -> ip
  exportAcl: boolean;
  requestTimeoutMs: number;
  tlsCaFile?: string;
}

export function readIoHypSection(config: VirtplugConfig): IoHypSection {
  return readSection(config, 'iohyp', IOHYP_SECTION);
}

/** Turns the section's lists into checked maps; every malformed entry is a ConfigError naming it. */
export function routerSettings(file: string, v: IoHypSection, statePath: string): RouterSettings {
  const bad = (key: string, value: unknown, expected: string) => new ConfigError(file, 'iohyp', key, value, expected);
  const agents: AgentEndpoint[] = v.agents.map((entry) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9_-]{0,31})=(https?:\/\/[^\s]+)$/.exec(entry);
    if (!m) throw bad('agents', entry, 'name=http://host:port entries');
    return { name: m[1]!, url: m[2]!.replace(/\/+$/, '') };
  });
  if (new Set(agents.map((a) => a.name)).size !== agents.length) throw bad('agents', v.agents, 'unique agent names');
  const addresses = new Map<string, string>();
  for (const entry of v.addresses) {
    const m = /^([A-Za-z0-9_-]+)@(vlan|vxlan):(\d+)=(.+)$/.exec(entry);
    if (!m || !parseCidr(m[4]!)) throw bad('addresses', entry, 'AGENT@TYPE:ID=IP/PREFIX entries, e.g. hyp1@vlan:100=10.88.100.1/24');
    addresses.set(`${m[1]}@${m[2]}:${Number(m[3])}`, m[4]!);
  }
  const initiators = new Map<string, string>();
  for (const entry of v.initiator_addresses) {
    const m = /^(vlan|vxlan):(\d+)=(.+)$/.exec(entry);
    if (!m || !isIPv4(m[3]!)) throw bad('initiator_addresses', entry, 'TYPE:ID=IP entries, e.g. vlan:100=10.88.100.2');
    initiators.set(`${m[1]}:${Number(m[2])}`, m[3]!);
  }
  return {
    agents,
    tokenFile: v.token_file,
    stateDir: v.state_dir ?? `${statePath.replace(/\/+$/, '')}/iohyp`,
    addresses,
    addressIndex: v.address_index,
    initiators,
    exportAcl: v.export_acl,
    requestTimeoutMs: v.request_timeout_ms,
    ...(v.tls_ca_file ? { tlsCaFile: v.tls_ca_file } : {}),
  };
}

export function segmentLabel(s: Segment): string {
  return `${s.type}:${s.id}`;
}

export function isSegmentKind(t: string): t is SegmentKind {
  return t === 'vlan' || t === 'vxlan';
}
