import { open, stat } from 'node:fs/promises';
import { InvalidStateError, PowerState, UnsupportedOperationError, type ConsoleInfo, type InstanceRef } from '@virtplug/core';
import type { LibvirtDriverDeps } from '../context.js';
import { validateUuid } from '../xml/names.js';

/** The host a client dials: the listen address, or this host's IP when QEMU listens on every address. */
function dialHost(deps: LibvirtDriverDeps, listen: string | undefined): string {
  return !listen || listen === '0.0.0.0' || listen === '::' ? deps.myIp() : listen;
}

/** Running or paused: only then has libvirt assigned the autoport. */
async function requireRunning(deps: LibvirtDriverDeps, uuid: string, ref: InstanceRef, what: string): Promise<void> {
  const state = await deps.domains.powerState(uuid);
  if (state !== PowerState.RUNNING && state !== PowerState.PAUSED) {
    throw new InvalidStateError(`Instance ${ref.name} is not running, so its ${what} console has no port; power it on first.`);
  }
}

/** VNC console of a running instance: the live port libvirt assigned, the listen address, the password. */
export async function getVncConsole(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<ConsoleInfo> {
  const uuid = validateUuid(ref.uuid);
  const view = await deps.domains.view(uuid, { secure: true });
  if (!view.spec.vnc) throw new UnsupportedOperationError(deps.driverName, 'getVncConsole', `instance ${ref.name} has no VNC graphics ([libvirt] vnc_enabled was off when it was created)`);
  await requireRunning(deps, uuid, ref, 'VNC');
  if (!view.vncPort || view.vncPort <= 0) throw new InvalidStateError(`libvirt has not assigned a VNC port to ${ref.name} yet.`);
  const vnc = view.spec.vnc;
  return { type: 'vnc', host: dialHost(deps, vnc.listen), port: view.vncPort, ...(vnc.password ? { password: vnc.password } : {}) };
}

/**
 * SPICE console (Nova's get_spice_console): the live port (and TLS port when libvirt's qemu.conf
 * enables spice_tls) from the secure live XML. Only instances created with [libvirt] spice_enabled have one.
 */
export async function getSpiceConsole(deps: LibvirtDriverDeps, ref: InstanceRef): Promise<ConsoleInfo> {
  const uuid = validateUuid(ref.uuid);
  const view = await deps.domains.view(uuid, { secure: true });
  if (!view.spec.spice) throw new UnsupportedOperationError(deps.driverName, 'getSpiceConsole', `instance ${ref.name} has no SPICE graphics ([libvirt] spice_enabled was off when it was created)`);
  await requireRunning(deps, uuid, ref, 'SPICE');
  const port = view.spicePort;
  if (!port) throw new InvalidStateError(`libvirt has not assigned a SPICE port to ${ref.name} yet.`);
  const spice = view.spec.spice;
  return {
    type: 'spice',
    host: dialHost(deps, spice.listen),
    port,
    ...(view.spiceTlsPort ? { tlsPort: view.spiceTlsPort } : {}),
    ...(spice.password ? { password: spice.password } : {}),
  };
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
