import type { BackendSpec } from '../model.js';

export interface ExportRequest {
  id: string;
  spec: BackendSpec;
  secretFile: string | null;
  /** The IOhyp's address on the segment: the only address the server listens on. */
  host: string;
  port: number;
  name: string;
  pidFile: string;
}

/** One NBD server process per export (ORBIT's `iohyp_create_blk_device`). */
export interface Exporter {
  readonly name: string;
  start(req: ExportRequest): Promise<{ pid: number }>;
  stop(pid: number, pidFile: string): Promise<void>;
  alive(pid: number): boolean;
}

export interface ExportAcl {
  /** Admits only `allow` (source IPs) arriving on `iface` to `port`; everything else is reset. */
  allow(exportId: string, port: number, iface: string, allow: readonly string[]): Promise<void>;
  revoke(exportId: string, port: number): Promise<void>;
  /** Ports that currently have a rule, to prove nothing is left behind. */
  ports(): Promise<number[]>;
}
