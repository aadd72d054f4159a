import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Flavor, ImageMeta, Instance, IscsiConnectionInfo, NetworkInfo } from '@virtplug/core';
import { pino } from 'pino';
import { LocalAgentClient } from '../agent/client.js';
import { routerSettings, IOHYP_SECTION, type IoHypSection } from '../config.js';
import { IoHypRouter } from '../router.js';
import type { FaultHook } from '../routes/context.js';
import { memoryAgent, tempDir, type MemoryAgent } from './in-memory.js';
import type { ComputeDriver } from '@virtplug/core';

export const IO_FLAVOR: Flavor = { name: 'io.tiny', memoryMb: 256, vcpus: 1, rootGb: 1, extraSpecs: { 'io:enabled': '1' } };
export const PLAIN_FLAVOR: Flavor = { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 1 };
export const IMAGE: ImageMeta = { id: 'img', name: 'img', diskFormat: 'qcow2', path: '/images/img.qcow2' };

export function vlanNic(vlan = 100, ip = '10.88.100.10', mac = '52:54:00:00:01:10'): NetworkInfo {
  return [{ id: `port-${vlan}`, address: mac, fixedIps: [ip], network: { id: `net-${vlan}`, label: `tenant-${vlan}`, segmentType: 'vlan', segmentationId: vlan, cidr: `10.88.${vlan % 256}.0/24` } }];
}

export function instance(flavor: Flavor, networkInfo: NetworkInfo = vlanNic(), name = `vp-io-unit-${randomUUID().slice(0, 6)}`): Instance {
  return { uuid: randomUUID(), name, flavor, networkInfo };
}

export function iscsiVolume(id: string = randomUUID(), iqn = 'iqn.2026-11.io.virtplug.lab:vol1'): IscsiConnectionInfo {
  return {
    driverVolumeType: 'iscsi',
    volumeId: id,
    data: { targetPortal: '10.88.1.1:3260', targetIqn: iqn, targetLun: 1, authMethod: 'CHAP', authUsername: 'u', authPassword: 'secret-pw-123' },
  };
}

export interface UnitRig {
  router: IoHypRouter;
  agents: Map<string, MemoryAgent>;
  stateDir: string;
}

/** A router over `inner` with in-memory agents hyp1..hypN. */
export function unitRig(inner: ComputeDriver, options: { agents?: number; faults?: FaultHook; section?: Partial<IoHypSection>; stateDir?: string } = {}): UnitRig {
  const stateDir = options.stateDir ?? tempDir('vp-io-router-');
  const names = Array.from({ length: options.agents ?? 1 }, (_, i) => `hyp${i + 1}`);
  const agents = new Map(names.map((n) => [n, memoryAgent(n, join(stateDir, `agent-${n}`))]));
  const defaults = Object.fromEntries(Object.entries(IOHYP_SECTION).map(([k, o]) => [k, o.default])) as IoHypSection;
  const section: IoHypSection = {
    ...defaults,
    agents: names.map((n) => `${n}=http://127.0.0.1:1/${n}`),
    initiator_addresses: ['vlan:100=10.88.100.2'],
    ...options.section,
  };
  const settings = routerSettings('<test>', section, stateDir);
  const clients = new Map(names.map((n) => [n, new LocalAgentClient(n, agents.get(n)!.service)]));
  const router = new IoHypRouter(inner, { settings, agents: clients, logger: pino({ level: 'silent' }), ...(options.faults ? { faults: options.faults } : {}) });
  return { router, agents, stateDir };
}
