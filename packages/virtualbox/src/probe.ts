import type { ProbeResult } from '@virtplug/core';
import type { VBoxManageRunner } from './vboxmanage/runner.js';

/** Whether VBoxManage runs here and which version it is; never throws. */
export async function probeVBoxManage(runner: VBoxManageRunner): Promise<ProbeResult> {
  try {
    const v = await runner.version();
    const kernel = v.warnings.find((w) => /kernel module is not loaded/i.test(w));
    if (kernel) {
      return { usable: false, reason: `VBoxManage ${v.raw} at ${runner.cmd} warns: ${kernel}`, backendVersion: v.raw };
    }
    return { usable: true, reason: `VBoxManage ${v.raw} at ${runner.cmd}`, backendVersion: v.raw };
  } catch (e) {
    return { usable: false, reason: (e as Error).message };
  }
}
