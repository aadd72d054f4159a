import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { validateUuid } from '../xml/names.js';

/** Unix socket paths are limited to 108 bytes (sun_path); stay well below. */
const MAX_SOCKET_PATH = 100;

/**
 * The per-instance directory `<instances_path>/<uuid>/`: disk overlay, rescue disk, console log, agent
 * socket and the saved XML for unrescue. Only a validated UUID ever becomes part of a path.
 */
export class InstanceFiles {
  constructor(readonly instancesPath: string) {}

  dir(uuid: string): string {
    return join(this.instancesPath, validateUuid(uuid));
  }
  disk(uuid: string): string {
    return join(this.dir(uuid), 'disk.qcow2');
  }
  rescueDisk(uuid: string): string {
    return join(this.dir(uuid), 'rescue.qcow2');
  }
  unrescueXml(uuid: string): string {
    return join(this.dir(uuid), 'unrescue.xml');
  }
  consoleLog(uuid: string): string {
    return join(this.dir(uuid), 'console.log');
  }
  agentSocket(uuid: string): string {
    const path = join(this.dir(uuid), 'agent.sock');
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
    // A deep instances_path would overflow sun_path: fall back to a short, still unique, path.
    return join('/run/virtplug-lv', `${createHash('sha256').update(path).digest('hex').slice(0, 24)}.sock`);
  }

  async create(uuid: string): Promise<string> {
    const dir = this.dir(uuid);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const sock = this.agentSocket(uuid);
    if (!sock.startsWith(dir)) await mkdir(join(sock, '..'), { recursive: true, mode: 0o750 });
    return dir;
  }

  async exists(uuid: string): Promise<boolean> {
    return stat(this.dir(uuid)).then(() => true, () => false);
  }

  async remove(uuid: string): Promise<void> {
    await rm(this.dir(uuid), { recursive: true, force: true });
    const sock = this.agentSocket(uuid);
    if (!sock.startsWith(this.dir(uuid))) await rm(sock, { force: true });
  }
}
