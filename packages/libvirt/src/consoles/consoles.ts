import { open, stat } from 'node:fs/promises';
import { InvalidStateError, PowerState, UnsupportedOperationError, type ConsoleInfo, type InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { validateUuid } from '../xml/names.js';

/** VNC console of a running instance: the live port libvirt assigned, the listen address, the password. */
export async function getVncConsole(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<ConsoleInfo> {
  const uuid = validateUuid(ref.uuid);
  const view = await deps.domains.view(uuid, { secure: true });
  if (!view.spec.vnc) throw new UnsupportedOperationError(deps.driverName, 'getVncConsole', `instance ${ref.name} has no VNC graphics ([libvirt] vnc_enabled was off when it was created)`);
  const state = await deps.domains.powerState(uuid);
  if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) {
    throw new InvalidStateError(`Instance ${ref.name} is not running, so its VNC console has no port; power it on first.`);
  }
  if (!view.vncPort || view.vncPort <= 0) throw new InvalidStateError(`libvirt has not assigned a VNC port to ${ref.name} yet.`);
  const listen = view.spec.vnc.listen;
  const host = !listen || listen === '0.0.0.0' || listen === '::' ? deps.myIp() : listen;
  return { type: 'vnc', host, port: view.vncPort, ...(view.spec.vnc.password ? { password: view.spec.vnc.password } : {}) };
}

/** The tail (serial_log_max_bytes) of the serial console log file, as Nova's get_console_output. */
export async function getConsoleOutput(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<string> {
  const uuid = validateUuid(ref.uuid);
  if (!deps.uri.local) throw new UnsupportedOperationError(deps.driverName, 'getConsoleOutput', `${deps.uri.uri} is remote; the serial log is a file on the hypervisor host`);
  const view = await deps.domains.view(uuid);
  const path = view.spec.serialLog;
  if (!path) throw new UnsupportedOperationError(deps.driverName, 'getConsoleOutput', `instance ${ref.name} has no file-backed serial console`);
  const st = await stat(path).catch(() => undefined);
  if (!st) return '';
  const max = deps.config.serial_log_max_bytes;
  const start = Math.max(0, st.size - max);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(st.size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}
