import { InvalidArgumentError } from '@virtplug/core';

/** What the driver needs to know about a connection URI to decide how to talk to it. */
export interface LibvirtUri {
  uri: string;
  /** Hypervisor driver: qemu, xen or test. */
  driver: 'qemu' | 'xen' | 'test';
  /** Remote transport after `+` (tcp, ssh, unix, tls, libssh, ext), or '' for the default. */
  transport: string;
  host: string;
  path: string;
  /**
   * Whether files the driver writes (disks, sockets, logs) are on the hypervisor's machine. Remote URIs
   * (a host, or ssh/tcp/tls) are not: storage, the guest agent and the serial log need a local daemon.
   */
  local: boolean;
  /**
   * libvirt's test driver keeps its state per connection: another process (virsh) would see a fresh
   * hypervisor, so every call must go through the one in-process connection.
   */
  perConnectionState: boolean;
}

export const URI_EXPECTED =
  'a libvirt connection URI such as qemu:///system, qemu:///session, qemu+tcp://host/system, ' +
  'qemu+ssh://user@host/system, qemu+unix:///system?socket=/path, xen:///system, test:///default or test:///abs/path.xml';

const SHAPE = /^(qemu|xen|test)(?:\+(tcp|ssh|unix|tls|libssh|libssh2|ext))?:\/\/([^/?#\s]*)(\/[^?#\s]*)?(?:\?([^#\s]*))?$/;
const HOST = /^(?:[A-Za-z0-9._~%!$&'()*+,;=:-]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Parses and validates a URI; `null` with a reason when it is not one libvirt would accept for us. */
export function parseLibvirtUri(uri: string): LibvirtUri | { error: string } {
  if (typeof uri !== 'string' || uri.length === 0) return { error: 'it is empty' };
  if (/[\u0000-\u001f\u007f]/.test(uri)) return { error: 'it contains control characters' };
  const m = SHAPE.exec(uri);
  if (!m) return { error: 'it does not look like driver[+transport]://[host]/path' };
  const [, driver, transport = '', host = '', path = '', query] = m as unknown as [string, LibvirtUri['driver'], string?, string?, string?, string?];
  if (host && !HOST.test(host)) return { error: `the host part ${JSON.stringify(host)} is not a host name` };
  if (transport === 'unix' && host) return { error: 'a unix-socket URI has no host part' };
  if (query !== undefined && !/^[A-Za-z0-9_]+=[^&]*(?:&[A-Za-z0-9_]+=[^&]*)*$/.test(query)) {
    return { error: `the query ${JSON.stringify(query)} is not key=value pairs` };
  }
  if (driver === 'qemu' && !/^\/(system|session|embed)$/.test(path)) {
    return { error: `the path ${JSON.stringify(path)} is not /system, /session or /embed` };
  }
  if (driver === 'xen' && !/^\/(system)?$/.test(path)) return { error: `the path ${JSON.stringify(path)} is not /system` };
  if (driver === 'test') {
    if (transport || host) return { error: 'test:/// URIs are local and in-process (no host or transport)' };
    if (path !== '/default' && (!/^\/.+\.xml$/.test(path) || path.split('/').some((p) => p === '..' || p === '.'))) {
      return { error: `the path ${JSON.stringify(path)} is not /default or an absolute path to a .xml node file` };
    }
  }
  const remote = host !== '' || ['tcp', 'ssh', 'tls', 'libssh', 'libssh2', 'ext'].includes(transport);
  return { uri, driver, transport, host, path, local: !remote, perConnectionState: driver === 'test' };
}

export function isValidLibvirtUri(uri: string): boolean {
  return !('error' in parseLibvirtUri(uri));
}

/** The parsed URI, or InvalidArgumentError naming what is wrong and what would be accepted. */
export function requireLibvirtUri(uri: string): LibvirtUri {
  const parsed = parseLibvirtUri(uri);
  if ('error' in parsed) throw new InvalidArgumentError(`libvirt connection URI (${parsed.error})`, uri, URI_EXPECTED);
  return parsed;
}
