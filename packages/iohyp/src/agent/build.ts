import { hostname } from 'node:os';
import { isIPv4 } from 'node:net';
import { ConfigError, type ProcessRunner } from '@virtplug/core';
import type { Logger } from 'pino';
import { QemuBackendConnector } from '../backends/connector.js';
import type { IoHypSection } from '../config.js';
import { NftExportAcl } from '../exports/nft-acl.js';
import { QemuNbdExporter } from '../exports/qemu-nbd.js';
import { QsdExporter } from '../exports/qsd.js';
import { OvsSegmentAdapter } from '../segments/ovs.js';
import { SegmentSelector, type SegmentBackendChoice } from '../segments/select.js';
import { VlanSegmentAdapter } from '../segments/vlan.js';
import { VxlanSegmentAdapter } from '../segments/vxlan.js';
import { AgentService } from './service.js';

/** Wires the agent's real adapters from `[iohyp]`; every value that reaches a command is checked here. */
export function buildAgentService(file: string, v: IoHypSection, statePath: string, runner: ProcessRunner, logger: Logger): AgentService {
  const bad = (key: string, value: unknown, expected: string) => new ConfigError(file, 'iohyp', key, value, expected);
  if (v.nbd_port_min > v.nbd_port_max) throw bad('nbd_port_max', v.nbd_port_max, `>= nbd_port_min (${v.nbd_port_min})`);
  if (v.vxlan_local && !isIPv4(v.vxlan_local)) throw bad('vxlan_local', v.vxlan_local, 'an IPv4 address');
  for (const r of v.vxlan_remotes) if (!isIPv4(r)) throw bad('vxlan_remotes', r, 'IPv4 addresses');
  for (const [key, dev] of [['vlan_trunk', v.vlan_trunk], ['vxlan_dev', v.vxlan_dev]] as const) {
    if (dev !== null && !/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw bad(key, dev, 'an interface name');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(v.agent_name)) throw bad('agent_name', v.agent_name, 'letters, digits, - and _');
  const iqn = v.initiator_iqn ?? `iqn.2026-11.io.virtplug:${v.agent_name.toLowerCase()}`;
  if (!/^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[A-Za-z0-9._:-]+)?$/.test(iqn)) throw bad('initiator_iqn', iqn, 'an iSCSI qualified name (iqn.YYYY-MM.domain:name)');
  const stateDir = v.agent_state_dir ?? `${statePath.replace(/\/+$/, '')}/iohyp-agent`;
  if (/[,\0]/.test(stateDir)) throw bad('agent_state_dir', stateDir, 'a path without commas');
  const segments = new SegmentSelector(
    [
      new OvsSegmentAdapter(runner, { db: v.ovs_db, bridge: v.ovs_bridge }),
      new VlanSegmentAdapter(runner, v.vlan_trunk),
      new VxlanSegmentAdapter(runner, { dev: v.vxlan_dev, local: v.vxlan_local, remotes: v.vxlan_remotes, port: v.vxlan_port }),
    ],
    v.segment_backend as SegmentBackendChoice,
  );
  const exporter = v.exporter === 'qemu-nbd' ? new QemuNbdExporter(runner, iqn) : new QsdExporter(runner, iqn);
  logger.debug({ host: hostname(), iqn, stateDir }, 'agent configured');
  return new AgentService({
    name: v.agent_name,
    stateDir,
    portRange: [v.nbd_port_min, v.nbd_port_max],
    connector: new QemuBackendConnector(runner, iqn, v.file_roots),
    exporter,
    acl: new NftExportAcl(runner),
    segments,
    logger,
  });
}
