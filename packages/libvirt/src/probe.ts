import { isVirtplugError, type ProbeResult } from '@virtplug/core';
import type { LibvirtTransport, Versions } from './transport/port.js';

/** Whether libvirt answers at the URI, and which versions: for `virtplug drivers` and smoke runs. */
export async function probeConnection(transport: LibvirtTransport, versions: () => Promise<Versions>): Promise<ProbeResult> {
  try {
    await transport.open();
    const v = await versions();
    return {
      usable: true,
      reason: `libvirt ${v.libvirt} at ${transport.uri}, hypervisor ${v.hypervisorType} ${v.hypervisorVersion}`,
      backendVersion: `libvirt ${v.libvirt}; ${v.hypervisorType} ${v.hypervisorVersion}`,
    };
  } catch (e) {
    return { usable: false, reason: isVirtplugError(e) ? e.message : `libvirt at ${transport.uri} failed: ${(e as Error).message}` };
  }
}
