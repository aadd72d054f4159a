import { randomBytes, randomUUID } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { hasGuestAgent, OperationFailedError, type Instance } from '@virtplug/core';
import type { IoHypRouter } from '../router.js';
import type { RouteRecord } from '../routes/record.js';
import type { SmokeTarget } from './lab-target.js';

export interface SmokeStep {
  name: string;
  ms: number;
  ok: boolean;
  detail?: string;
}

export interface SmokeReport {
  ok: boolean;
  steps: SmokeStep[];
  route?: RouteRecord;
}

/**
 * The lab scenario behind `virtplug smoke iohyp`: an io:enabled=1 guest on a tenant segment gets a
 * routed volume, writes a pattern through its agent, the bytes are read back from the storage host,
 * and after detach nothing is left on the IOhyp. The instance is destroyed whatever happens.
 */
export async function runIoHypSmoke(router: IoHypRouter, target: SmokeTarget, onStep: (s: SmokeStep) => void = () => {}): Promise<SmokeReport> {
  const steps: SmokeStep[] = [];
  const report: SmokeReport = { ok: false, steps };
  const step = async <T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> => {
    const t0 = performance.now();
    try {
      const v = await fn();
      const s: SmokeStep = { name, ms: Math.round(performance.now() - t0), ok: true, ...(detail ? { detail: detail(v) } : {}) };
      steps.push(s);
      onStep(s);
      return v;
    } catch (e) {
      const s: SmokeStep = { name, ms: Math.round(performance.now() - t0), ok: false, detail: (e as Error).message };
      steps.push(s);
      onStep(s);
      throw e;
    }
  };
  if (!hasGuestAgent(router)) throw new OperationFailedError(`The wrapped driver ${router.wrappedName} has no guest agent; the smoke scenario needs one (libvirt).`);
  const vm: Instance = {
    uuid: randomUUID(),
    name: `vp-io-smoke-${randomUUID().slice(0, 6)}`,
    flavor: { name: 'io.tiny', memoryMb: 256, vcpus: 1, rootGb: 1, extraSpecs: { 'io:enabled': '1' } },
    networkInfo: [target.nic],
  };
  const agent = router.guestAgent(vm);
  try {
    await step('spawn io:enabled=1 guest', () => router.spawn(vm, target.image), () => vm.name);
    await step('guest agent ready', () => agent.waitReady(120_000));
    await step('guest takes its segment address', () => agent.request('set-identity', { iface: 'eth0', ip: target.guestAddress }), () => target.guestAddress);
    report.route = await step('attach (routed through the IOhyp)', () => router.attachRouted(vm, target.volume, '/dev/vdb'), (r) => `${r.iohypHost} ${r.segment.type}:${r.segment.id} nbd://${r.export?.host}:${r.export?.port}/${r.export?.name}`);
    const device = await step('disk appears in the guest', async () => {
      for (let i = 0; i < 60; i++) {
        const d = await agent.request<{ disks: Array<{ name: string; serial?: string }> }>('list-disks');
        const hit = d.disks.find((x) => x.serial === target.volume.volumeId);
        if (hit) return `/dev/${hit.name}`;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`no disk with serial ${target.volume.volumeId} appeared`);
    }, (d) => d);
    const pattern = randomBytes(64 * 1024);
    const offset = 5 << 20;
    await step('guest writes 64 KiB', () => agent.request('disk-write', { device, offset, data_b64: pattern.toString('base64') }));
    await step('bytes are on the storage host', async () => {
      const buf = Buffer.alloc(pattern.length);
      const fd = openSync(target.backingFile, 'r');
      try {
        readSync(fd, buf, 0, buf.length, offset);
      } finally {
        closeSync(fd);
      }
      if (!buf.equals(pattern)) throw new Error(`${target.backingFile} at ${offset} does not hold the guest's pattern`);
    }, () => target.backingFile);
    await step('detach', () => router.detachVolume(vm, target.volume, '/dev/vdb'));
    await step('nothing left on the IOhyp', async () => {
      if (router.listRoutes().some((r) => r.instance.uuid === vm.uuid)) throw new Error('a route record is left');
      for (const name of router.agentNames()) {
        const s = await router.agentStatus(name);
        const left = [...s.exports.map((e) => `export ${e.id}`), ...s.backends.map((b) => `backend ${b.id}`), ...s.ports.map((p) => `port ${p.iface}`)];
        if (left.length) throw new Error(`${name} still has ${left.join(', ')}`);
      }
    });
    report.ok = true;
  } catch {
    report.ok = false;
  } finally {
    await step('destroy guest', () => router.destroy(vm)).catch(() => undefined);
  }
  return report;
}
