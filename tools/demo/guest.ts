import type { GuestAgentAccess, InstanceRef } from '@virtplug/core';

export async function identity(driver: GuestAgentAccess, ref: InstanceRef) {
  const id = await driver.guestAgent(ref).request<{ hostname: string; macs: Record<string, string>; boot_id: string; machine_id: string }>('identity');
  return { hostname: id.hostname, mac: id.macs.eth0 ?? Object.values(id.macs)[0] ?? '-', bootId: id.boot_id, machineId: id.machine_id };
}

export async function readHookLog(driver: GuestAgentAccess, ref: InstanceRef): Promise<string> {
  const r = await driver.guestAgent(ref).request<{ data_b64: string }>('read-file', { path: '/run/virtplug/hook.log' });
  return Buffer.from(r.data_b64, 'base64').toString();
}
