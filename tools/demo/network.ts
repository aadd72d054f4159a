import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import type { NetworkInfo } from '@virtplug/core';

/** A host-only bridge for the demo's guests: no address, no uplink, gone again at the end. */
export async function demoBridge(name: string): Promise<{ networkInfo: () => NetworkInfo; remove: () => Promise<void> }> {
  if (!existsSync(`/sys/class/net/${name}`)) await execa('ip', ['link', 'add', name, 'type', 'bridge']);
  await execa('ip', ['link', 'set', name, 'up']);
  return {
    networkInfo: () => [
      {
        id: randomUUID(),
        address: `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`,
        network: { id: name, label: name, segmentType: 'flat', bridge: name },
      },
    ],
    async remove() {
      const ports = `/sys/class/net/${name}/brif`;
      if (existsSync(ports) && readdirSync(ports).length === 0) await execa('ip', ['link', 'del', name]);
    },
  };
}
