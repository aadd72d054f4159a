/**
 * VBoxManage's error output on stderr:
 *   VBoxManage: error: <message>
 *   VBoxManage: error: Details: code <SYMBOL> (0x…), component …, interface …, callee …
 *   VBoxManage: error: Context: "…" at line N of file VBoxManageX.cpp
 * (`VBoxManage.exe:` on Windows), the progress form `Progress state: <SYMBOL>` +
 * `VBoxManage: error: Code <SYMBOL> (0x…) - <message>`, and bare `Syntax error: …` for bad arguments.
 */
export interface VBoxErrorOutput {
  /** The error lines' messages, without Details/Context lines. */
  messages: string[];
  /** COM/XPCOM result symbol, e.g. VBOX_E_OBJECT_NOT_FOUND. */
  code?: string;
  hex?: string;
  component?: string;
  context?: string;
  /** IPRT status codes mentioned anywhere, e.g. VERR_DISK_FULL. */
  iprt: string[];
  syntaxError?: string;
}

const PREFIX = /^VBoxManage(?:\.exe)?: error: ?/;

export function parseErrorOutput(stderr: string): VBoxErrorOutput {
  const out: VBoxErrorOutput = { messages: [], iprt: [] };
  for (const rawLine of stderr.split(/\r?\n/)) {
    const line = rawLine.trimEnd();
    const body = line.replace(PREFIX, '');
    const details = /(?:^|\s)(?:Details: )?code ([A-Z][A-Z0-9_]+) \((0x[0-9a-fA-F]+)\)(?:, component ([^,]+))?/.exec(body);
    const progressCode = /^Code ([A-Z][A-Z0-9_]+) \((0x[0-9a-fA-F]+)\)(?: - (.*))?$/.exec(body);
    const context = /^Context: (.*)$/.exec(body);
    if (progressCode) {
      out.code ??= progressCode[1];
      out.hex ??= progressCode[2];
      if (progressCode[3]) out.messages.push(progressCode[3]);
    } else if (details && /^(Details: )?code /.test(body.trim())) {
      out.code ??= details[1];
      out.hex ??= details[2];
      if (details[3]) out.component ??= details[3].trim();
    } else if (context) {
      out.context ??= context[1];
    } else if (/^Progress state: ([A-Z][A-Z0-9_]+)/.test(body)) {
      out.code ??= /^Progress state: ([A-Z][A-Z0-9_]+)/.exec(body)![1];
    } else if (/^Syntax error: /.test(body)) {
      out.syntaxError = body.replace(/^Syntax error: /, '');
    } else if (PREFIX.test(line) && body.trim()) {
      out.messages.push(body.trim());
    }
    for (const m of line.matchAll(/\b(VERR_[A-Z0-9_]+)\b/g)) if (!out.iprt.includes(m[1]!)) out.iprt.push(m[1]!);
  }
  return out;
}

export function hasErrorLine(stderr: string): boolean {
  return stderr.split(/\r?\n/).some((l) => PREFIX.test(l));
}
