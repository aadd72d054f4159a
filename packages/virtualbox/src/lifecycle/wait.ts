import type { DriverContext } from '../context.js';
import type { VmInfo } from '../vboxmanage/parse/vm-info.js';

/** Polls showvminfo until `done` holds or `timeoutMs` passes; returns the last info seen. */
export async function waitForVm(
  ctx: DriverContext,
  uuid: string,
  done: (info: VmInfo) => boolean,
  timeoutMs: number,
  pollMs = 250,
): Promise<{ info: VmInfo; reached: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await ctx.vbox.showVmInfo(uuid);
    if (done(info)) return { info, reached: true };
    if (Date.now() >= deadline) return { info, reached: false };
    await ctx.sleep(Math.min(pollMs, Math.max(10, deadline - Date.now())));
  }
}
