import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseIni } from 'ini';
import { ConfigError, InvalidArgumentError } from '../errors.js';
import { opt, type SectionSpec, type SectionValues } from './options.js';

/** A loaded configuration: nova.conf-style sections of raw values, validated per section on read. */
export interface VirtplugConfig {
  /** Where it came from, for error messages (`<inline>` for objects). */
  file: string;
  sections: Record<string, Record<string, unknown>>;
}

/** What callers may pass instead of a file: `{ computeDriver: 'fake', virtualbox: { retry_count: 5 } }`. */
export interface InlineConfig {
  computeDriver?: string;
  logLevel?: string;
  statePath?: string;
  DEFAULT?: Record<string, unknown>;
  [section: string]: unknown;
}

export const DEFAULT_SECTION: SectionSpec = {
  compute_driver: opt.str('', 'Driver to load: libvirt, virtualbox, fake, a Nova-style alias, or an npm package.'),
  log_level: opt.oneOf(['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'warn', 'Log level.', true),
  state_path: opt.str('/var/lib/virtplug', 'Where drivers keep their state (records, images, live images).'),
  evidence_dir: opt.optionalStr('Where contract runs write evidence; default docs/evidence of the workspace.'),
};

export function loadConfigFile(path: string): VirtplugConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError('config file', path, 'a readable INI (nova.conf style) or JSON file', { cause: e });
  }
  if (extname(file) === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InvalidArgumentError(`JSON in ${file}`, (e as Error).message, 'valid JSON', { cause: e });
    }
    return fromInline(data as InlineConfig, file);
  }
  return { file, sections: normaliseSections(parseIni(text) as Record<string, unknown>) };
}

export function fromInline(input: InlineConfig, file = '<inline>'): VirtplugConfig {
  const sections: Record<string, Record<string, unknown>> = {};
  const defaults: Record<string, unknown> = { ...(input.DEFAULT ?? {}) };
  for (const [key, value] of Object.entries(input)) {
    if (key === 'DEFAULT') continue;
    if (key === 'computeDriver') defaults.compute_driver = value;
    else if (key === 'logLevel') defaults.log_level = value;
    else if (key === 'statePath') defaults.state_path = value;
    else if (key === 'evidenceDir') defaults.evidence_dir = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) sections[key] = { ...(value as object) };
    else defaults[key] = value;
  }
  sections.DEFAULT = defaults;
  return { file, sections };
}

export function emptyConfig(): VirtplugConfig {
  return { file: '<defaults>', sections: { DEFAULT: {} } };
}

/** INI puts top-level keys (before any section) at the root; Nova treats them as [DEFAULT]. */
function normaliseSections(parsed: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = { DEFAULT: {} };
  for (const [key, value] of Object.entries(parsed)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      sections[key] = { ...(sections[key] ?? {}), ...(value as Record<string, unknown>) };
    } else {
      sections.DEFAULT![key] = value;
    }
  }
  return sections;
}

/**
 * Validates one section against its spec and fills defaults. Unknown keys are kept out of the result
 * but are not errors: seed-style nova_compute.conf files carry options for other services.
 */
export function readSection<S extends SectionSpec>(config: VirtplugConfig, section: string, spec: S): SectionValues<S> {
  const raw = config.sections[section] ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    if (!(key in raw) || raw[key] === undefined) {
      out[key] = option.default;
      continue;
    }
    const parsed = option.schema.safeParse(raw[key]);
    if (!parsed.success) throw new ConfigError(config.file, section, key, raw[key], option.expected);
    out[key] = parsed.data;
  }
  return out as SectionValues<S>;
}

export function unknownKeys(config: VirtplugConfig, section: string, spec: SectionSpec): string[] {
  return Object.keys(config.sections[section] ?? {}).filter((k) => !(k in spec));
}

export function readDefaults(config: VirtplugConfig) {
  return readSection(config, 'DEFAULT', DEFAULT_SECTION) as {
    compute_driver: string;
    log_level: string;
    state_path: string;
    evidence_dir: string | null;
  };
}
