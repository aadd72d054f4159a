import { TimeoutError } from '@virtplug/core';

/**
 * Bounds a call that has no timeout of its own (a native binding call). The call itself cannot be
 * cancelled; it finishes in the background and its result is dropped.
 */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string, hint = ''): Promise<T> {
  if (!(timeoutMs > 0)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(operation, timeoutMs, hint)), timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or throws TimeoutError. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, operation: string, intervalMs = 250, hint = ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new TimeoutError(operation, timeoutMs, hint);
    await sleep(intervalMs);
  }
}
