/**
 * `VBoxManage --version`: one line such as `7.0.20r163906`, `5.2.44_Ubuntur139111`, `6.1.50_OSEr161033`
 * or `4.3.36_Debianr105129`, possibly after `WARNING:` lines (kernel module not loaded) and their
 * indented continuation. The version is what precedes `_` and `r` (Vagrant's rule).
 */
export interface VBoxVersion {
  raw: string;
  version: string;
  major: number;
  minor: number;
  build: number;
  revision?: number;
  warnings: string[];
}

export function parseVersion(text: string): VBoxVersion | undefined {
  const warnings: string[] = [];
  let raw: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^WARNING:/.test(line)) {
      warnings.push(line.replace(/^WARNING:\s*/, ''));
      continue;
    }
    if (/^\s/.test(line)) {
      if (warnings.length && line.trim()) warnings[warnings.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (!raw && /^\d+\.\d+/.test(line.trim())) raw = line.trim();
  }
  if (!raw) return undefined;
  const version = raw.split('_')[0]!.split('r')[0]!;
  const [major, minor, build] = version.split('.').map((x) => Number.parseInt(x, 10));
  const rev = /r(\d+)\s*$/.exec(raw);
  return {
    raw,
    version,
    major: major ?? 0,
    minor: minor ?? 0,
    build: Number.isFinite(build) ? build! : 0,
    ...(rev ? { revision: Number(rev[1]) } : {}),
    warnings,
  };
}
