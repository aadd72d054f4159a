/** Narration for the demo: each step says what it does, how long it took, and fails by name. */
export class StepFailed extends Error {
  constructor(readonly step: string, cause: unknown) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

let counter = 0;
const started = Date.now();

export async function step<T>(title: string, fn: (say: (line: string) => void) => Promise<T>): Promise<T> {
  const n = ++counter;
  process.stdout.write(`\n▶ ${n}. ${title}\n`);
  const t0 = Date.now();
  const say = (line: string) => process.stdout.write(`   ${line}\n`);
  try {
    const result = await fn(say);
    process.stdout.write(`   ✔ ${seconds(Date.now() - t0)}\n`);
    return result;
  } catch (e) {
    process.stdout.write(`   ✖ failed after ${seconds(Date.now() - t0)}\n`);
    throw new StepFailed(`${n}. ${title}`, e);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function totalElapsed(): string {
  return seconds(Date.now() - started);
}
