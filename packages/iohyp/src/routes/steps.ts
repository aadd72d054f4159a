import { InvalidStateError, type VolumeConnectionInfo } from '@virtplug/core';
import { iohypAddress, exportAllowList } from '../addressing.js';
import type { BackendSpec } from '../model.js';
import { rankAgents } from '../placement.js';
import { instanceRef, nbdConnectionInfo, type RouteContext } from './context.js';
import type { AttachStep, RouteRecord } from './record.js';

export interface AttachInput {
  connectionInfo: VolumeConnectionInfo;
  cidr: string | undefined;
}

type Forward = (ctx: RouteContext, r: RouteRecord, input: AttachInput) => Promise<void>;
type Undo = (ctx: RouteContext, r: RouteRecord) => Promise<void>;

/** Cinder connection_info -> what the IOhyp's initiator connects to. */
export function backendSpec(ci: VolumeConnectionInfo): BackendSpec {
  if (ci.driverVolumeType === 'iscsi') {
    const d = ci.data;
    return {
      type: 'iscsi',
      portal: d.targetPortal,
      iqn: d.targetIqn,
      lun: d.targetLun,
      ...(d.authMethod === 'CHAP' ? { chap: { username: d.authUsername ?? '', password: d.authPassword ?? '' } } : {}),
    };
  }
  if (ci.driverVolumeType === 'file') return { type: 'file', path: ci.data.path, format: ci.data.format ?? 'raw' };
  throw new InvalidStateError(`A ${ci.driverVolumeType} volume cannot be routed through an IOhyp; it needs an iSCSI or file backend.`);
}

/** Each step mutates the record with what it built, so its undo needs nothing but the record. */
export const FORWARD: Record<AttachStep, Forward> = {
  'choose-host': async (ctx, r) => {
    const sticky = ctx.optIns.get(r.instance.uuid)?.iohypHost;
    if (sticky) {
      const endpoint = ctx.settings.agents.find((a) => a.name === sticky);
      if (!endpoint) {
        throw new InvalidStateError(`Instance ${r.instance.name} is pinned to IOhyp ${sticky}, which is no longer in [iohyp] agents; add it back or detach its volumes.`, {
          iohypHost: sticky,
        });
      }
      await ctx.agent(sticky).status(); // reachable, or fail this step now rather than half-way
      Object.assign(r, { iohypHost: sticky, agentUrl: endpoint.url });
      return;
    }
    const failures: string[] = [];
    for (const candidate of rankAgents(r.instance.uuid, ctx.settings.agents)) {
      try {
        await ctx.agent(candidate.name).status();
      } catch (e) {
        failures.push(`${candidate.name}: ${(e as Error).message}`);
        continue;
      }
      Object.assign(r, { iohypHost: candidate.name, agentUrl: candidate.url });
      ctx.optIns.patch(r.instance.uuid, (o) => ({ ...o, iohypHost: candidate.name }));
      return;
    }
    throw new InvalidStateError(
      ctx.settings.agents.length === 0 ? 'No IOhyp agents are configured; set [iohyp] agents.' : `No IOhyp agent is reachable: ${failures.join('; ')}`,
    );
  },
  'connect-backend': async (ctx, r, input) => {
    const info = await ctx.agent(r.iohypHost).connectBackend(r.backend.id, backendSpec(input.connectionInfo));
    r.backend = { id: info.id, type: info.type, url: info.url, chap: info.chap, sizeBytes: info.sizeBytes };
  },
  'segment-port': async (ctx, r, input) => {
    const address = iohypAddress(ctx.settings, r.iohypHost, r.segment, input.cidr);
    const port = await ctx.agent(r.iohypHost).ensureSegmentPort(r.segment, address, r.attachmentId);
    r.segmentPort = { iface: port.iface, address: port.address, backend: port.backend };
  },
  export: async (ctx, r) => {
    const allow = exportAllowList(ctx.settings, r.segment, r.guest.ip);
    const name = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/.test(r.volumeId) ? `vol-${r.volumeId}` : `att-${r.attachmentId}`;
    const e = await ctx.agent(r.iohypHost).createExport({ id: r.attachmentId, backendId: r.backend.id, segment: r.segment, name, allow });
    r.export = { id: e.id, host: e.host, port: e.port, name: e.name, allow: e.allow };
  },
  'attach-disk': async (ctx, r) => {
    await ctx.inner.attachVolume(instanceRef(r), nbdConnectionInfo(r), r.device);
  },
};

export const UNDO: Record<AttachStep, Undo> = {
  'choose-host': async (ctx, r) => {
    // Keep the pin while other volumes of the instance still route through that IOhyp.
    const others = ctx.routes.forInstance(r.instance.uuid).filter((x) => x.attachmentId !== r.attachmentId);
    if (others.length === 0) ctx.optIns.patch(r.instance.uuid, ({ iohypHost: _h, ...o }) => o);
  },
  'connect-backend': async (ctx, r) => {
    await ctx.agent(r.iohypHost).disconnectBackend(r.backend.id);
  },
  'segment-port': async (ctx, r) => {
    await ctx.agent(r.iohypHost).releaseSegmentPort(r.segment, r.attachmentId);
    r.segmentPort = null;
  },
  export: async (ctx, r) => {
    await ctx.agent(r.iohypHost).removeExport(r.attachmentId);
    r.export = null;
  },
  'attach-disk': async (ctx, r) => {
    await ctx.inner.detachVolume(instanceRef(r), nbdConnectionInfo(r), r.device);
  },
};
