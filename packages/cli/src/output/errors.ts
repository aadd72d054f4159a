import { isVirtplugError } from '@virtplug/core';
import { EXIT_FAILED, EXIT_USAGE } from './exit-codes.js';

export class UsageError extends Error {}

/** Usage and configuration problems exit 2; everything that failed while doing the work exits 1. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (isVirtplugError(error) && (error.code === 'invalid_config' || error.code === 'invalid_argument')) return EXIT_USAGE;
  return EXIT_FAILED;
}

/** One line naming the thing and what to do; the stack only when debugging. */
export function formatError(error: unknown, debug: boolean): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = isVirtplugError(e) ? ` [${e.code}]` : '';
  const line = `virtplug: error${code}: ${e.message.replace(/\s*\n\s*/g, ' ')}`;
  return debug && e.stack ? `${line}\n${e.stack}` : line;
}
