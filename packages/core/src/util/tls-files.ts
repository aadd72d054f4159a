import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

export interface ServerTls {
  cert: string;
  key: string;
}

/** A secret file (token, TLS key) must be readable by its owner only: one anyone on the host can read protects nothing. */
export function assertOwnerOnly(mode: number, path: string, option: string): void {
  if (mode & 0o077) throw new InvalidArgumentError(`${option} mode`, `0${(mode & 0o777).toString(8)}`, `0600 (run: chmod 600 ${path})`);
}

function readPem(option: string, path: string, kind: RegExp, expected: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(option, path, `a readable PEM file with ${expected}`, { cause: e });
  }
  if (!kind.test(text)) throw new InvalidArgumentError(option, path, `a PEM file with ${expected}`);
  return text;
}

/**
 * A server's certificate and key (`[section] tls_cert_file`, `tls_key_file`): both or neither. Like a
 * token file, the key must be readable by its owner only.
 */
export function readServerTls(section: string, certFile: string | null | undefined, keyFile: string | null | undefined): ServerTls | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new InvalidArgumentError(`[${section}] tls_cert_file / tls_key_file`, certFile ? 'only tls_cert_file' : 'only tls_key_file', 'both set (serve HTTPS) or neither (plain HTTP)');
  }
  const mode = statSync(keyFile, { throwIfNoEntry: false })?.mode;
  if (mode !== undefined) assertOwnerOnly(mode, keyFile, `[${section}] tls_key_file`);
  return {
    cert: readPem(`[${section}] tls_cert_file`, certFile, /-----BEGIN CERTIFICATE-----/, 'a certificate'),
    key: readPem(`[${section}] tls_key_file`, keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'),
  };
}

/** The CA bundle trusted for https URLs (`[section] tls_ca_file`); undefined = the system's CAs. */
export function readCaFile(section: string, caFile: string | null | undefined): string | undefined {
  return caFile ? readPem(`[${section}] tls_ca_file`, caFile, /-----BEGIN CERTIFICATE-----/, 'one or more CA certificates') : undefined;
}
