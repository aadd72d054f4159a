import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, assertOwnerOnly } from '@virtplug/core';

/**
 * Reads the shared bearer token. The file must be readable by its owner only: a token anyone on the
 * host can read protects nothing. The value is never logged or put into an error.
 */
export function readTokenFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new InvalidArgumentError('[iohyp] token_file', path, 'an existing file holding the bearer token (create it with mode 0600)', { cause: e });
  }
  assertOwnerOnly(mode, path, '[iohyp] token_file');
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16 || /\s/.test(token)) {
    throw new InvalidArgumentError('[iohyp] token_file content', `${token.length} characters`, 'one line of at least 16 non-space characters');
  }
  return token;
}
