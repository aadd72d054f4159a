import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError } from '@virtplug/core';
import { assertOwnerOnly } from '../util/token.js';

export interface ServerTls {
  cert: string;
  key: string;
}

function readPem(option: string, path: string, kind: RegExp, expected: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`[iohyp] ${option}`, path, `a readable PEM file with ${expected}`, { cause: e });
  }
  if (!kind.test(text)) throw new InvalidArgumentError(`[iohyp] ${option}`, path, `a PEM file with ${expected}`);
  return text;
}

/**
 * The agent's certificate and key ([iohyp] tls_cert_file, tls_key_file): both or neither. Like the
 * token file, the key must be readable by its owner only.
 */
export function readServerTls(certFile: string | null | undefined, keyFile: string | null | undefined): ServerTls | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new InvalidArgumentError('[iohyp] tls_cert_file / tls_key_file', certFile ? 'only tls_cert_file' : 'only tls_key_file', 'both set (serve HTTPS) or neither (plain HTTP)');
  }
  const mode = statSync(keyFile, { throwIfNoEntry: false })?.mode;
  if (mode !== undefined) assertOwnerOnly(mode, keyFile, '[iohyp] tls_key_file');
  return {
    cert: readPem('tls_cert_file', certFile, /-----BEGIN CERTIFICATE-----/, 'a certificate'),
    key: readPem('tls_key_file', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'),
  };
}

/** The CA bundle the router trusts for https agent URLs ([iohyp] tls_ca_file); undefined = system CAs. */
export function readCaFile(caFile: string | null | undefined): string | undefined {
  return caFile ? readPem('tls_ca_file', caFile, /-----BEGIN CERTIFICATE-----/, 'one or more CA certificates') : undefined;
}
