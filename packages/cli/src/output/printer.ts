/**
 * Where command results go: JSON (`--json`, one document on stdout) or text for people. Commands hand
 * over data and a text rendering; they never choose the format themselves.
 */
export class Printer {
  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  result(data: unknown, text: () => string): void {
    this.out.write(this.json ? JSON.stringify(data, null, 2) + '\n' : text().replace(/\n?$/, '\n'));
  }

  /** Narration of what is happening; suppressed in JSON mode so stdout stays parseable. */
  info(line: string): void {
    if (!this.json) this.err.write(line + '\n');
  }
}

export function table(rows: ReadonlyArray<object>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String((r as Record<string, unknown>)[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}
