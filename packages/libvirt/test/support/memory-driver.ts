import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { ImageMeta, Instance, LifecycleEvent } from '@virtplug/core';
import { LibvirtDriver } from '../../src/driver.js';
import { resolveLibvirtConfig, type LibvirtConfig } from '../../src/config.js';
import { InMemoryTransport } from '../../src/transport/memory.js';
import { FakeQemuImgRunner } from './fake-runner.js';

const dirs: string[] = [];

/** Removes the temp state directories of every memoryDriver() made so far (call in afterAll). */
export function removeMemoryDriverDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A LibvirtDriver over InMemoryTransport and a fake qemu-img, in a temp state dir, with captured logs. */
export function memoryDriver(config: Partial<LibvirtConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vp-lv-unit-'));
  dirs.push(dir);
  const transport = new InMemoryTransport();
  const runner = new FakeQemuImgRunner();
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const driver = new LibvirtDriver({
    config: resolveLibvirtConfig({ shutdown_timeout: 1, shutdown_retry_interval: 1, op_timeout_seconds: 2, event_poll_interval: 0, ...config }, dir),
    runner,
    logger,
    binding: transport,
    virsh: transport,
  });
  const events: LifecycleEvent[] = [];
  driver.onLifecycleEvent((e) => events.push(e));
  const imageDir = join(dir, 'src-image');
  mkdirSync(imageDir, { recursive: true });
  const image: ImageMeta = { id: 'img-1', name: 'tiny', diskFormat: 'qcow2', path: join(imageDir, 'disk.qcow2'), kernel: join(imageDir, 'vmlinuz'), initrd: join(imageDir, 'initrd'), cmdline: 'console=ttyS0' };
  writeFileSync(image.path, JSON.stringify({ size: 64 << 20 }));
  writeFileSync(image.kernel!, 'kernel');
  writeFileSync(image.initrd!, 'initrd');
  const instance = (name = `vp-lv-unit-${randomUUID().slice(0, 6)}`): Instance => ({ uuid: randomUUID(), name, flavor: { name: 'm1.tiny', memoryMb: 256, vcpus: 1, rootGb: 0 } });
  return { dir, driver, transport, runner, logs, events, image, instance };
}

