/**
 * config.toml: the product's keys with defaults, parsed through src/toml.ts. pyctl writes the
 * file once (on init, with comments) and never rewrites it: TOML stringify would drop the
 * user's comments and layout.
 */
import { readFileSync } from 'node:fs';
import { parseToml, TomlSyntaxError } from '../toml.js';
import { PyctlError } from '../errors.js';

export interface Config {
  history: { max_entries: number; auto_snapshot: boolean; show_diff_after_install: boolean };
  snapshots: { auto_baseline: boolean };
  ui: { color: boolean; verbose: boolean };
}

export const DEFAULTS: Config = {
  history: { max_entries: 100, auto_snapshot: true, show_diff_after_install: true },
  snapshots: { auto_baseline: true },
  ui: { color: true, verbose: false },
};

export const DEFAULT_CONFIG_TEXT = `# pyctl configuration. pyctl never rewrites this file; edit it freely.
# It is tracked in the state repo with your package history.

[history]
max_entries = 100              # operations 'pyctl history' shows and undo can reach (git keeps all)
auto_snapshot = true           # before undo/restore/clean, tag the state being left (auto/…)
show_diff_after_install = true # after a pip run changes the venv, print what changed (on stderr)

[snapshots]
auto_baseline = true           # tag the first state as 'baseline' on init

[ui]
color = true                   # colour on terminals (NO_COLOR / FORCE_COLOR still win)
verbose = false                # show the pip and git steps taken
`;

export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

type Section = keyof Config;

/** Pure: check a parsed TOML document against the known keys. */
export function validateConfig(doc: Record<string, unknown>, file: string): LoadedConfig {
  const config: Config = structuredClone(DEFAULTS);
  const warnings: string[] = [];
  for (const [section, value] of Object.entries(doc)) {
    if (!(section in DEFAULTS)) {
      warnings.push(`${file}: unknown section [${section}] is ignored`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(`${file}: '${section}' must be a table ([${section}])`);
    }
    const defaults = DEFAULTS[section as Section] as Record<string, unknown>;
    const target = config[section as Section] as Record<string, unknown>;
    for (const [key, v] of Object.entries(value)) {
      if (!(key in defaults)) {
        warnings.push(`${file}: unknown key ${section}.${key} is ignored`);
        continue;
      }
      const want = typeof defaults[key];
      if (want === 'number') {
        if (typeof v !== 'number' && typeof v !== 'bigint') throw invalid(`${file}: ${section}.${key} must be a number`);
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw invalid(`${file}: ${section}.${key} must be a whole number of 1 or more, not ${n}`);
        target[key] = n;
      } else if (typeof v !== want) {
        throw invalid(`${file}: ${section}.${key} must be ${want === 'boolean' ? 'true or false' : `a ${want}`}`);
      } else target[key] = v;
    }
  }
  return { config, warnings };
}

export function parseConfig(text: string, file: string): LoadedConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlSyntaxError) throw invalid(`${file}:${e.line}:${e.column}: ${e.reason}`);
    throw e;
  }
  return validateConfig(doc, file);
}

/** Read config.toml; a missing file means the defaults. */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { config: structuredClone(DEFAULTS), warnings: [] };
    throw new PyctlError('CONFIG_INVALID', `cannot read ${path}: ${(e as Error).message}`, 'check its permissions');
  }
  return parseConfig(text, path);
}

/** What to do about a broken config.toml (commands add that they changed nothing). */
export const CONFIG_FIX = 'fix the file (see docs/configuration.md)';

function invalid(message: string): PyctlError {
  return new PyctlError('CONFIG_INVALID', message, `${CONFIG_FIX}; nothing was changed`);
}
