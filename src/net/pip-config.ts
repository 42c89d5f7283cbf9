/**
 * Where pip would download from, read the way pip reads it (pip's configuration.py): the config
 * files in pip's order (global: $XDG_CONFIG_DIRS/pip/pip.conf and /etc/pip.conf; user:
 * ~/.pip/pip.conf and $XDG_CONFIG_HOME/pip/pip.conf, skipped when PIP_CONFIG_FILE names an
 * existing file; site: <venv>/pip.conf; then PIP_CONFIG_FILE; `/dev/null` there disables all
 * files), later files winning, [install] over [global], then PIP_* variables over everything.
 * Only what fetching pip itself needs: index-url, extra-index-url, no-index, proxy, cert.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const PYPI = 'https://pypi.org/simple/';

export interface PipSettings {
  /** Index URLs in pip's order: index-url first, then each extra-index-url. Empty with no-index. */
  indexes: string[];
  noIndex: boolean;
  /** pip's `proxy` option (wins over the *_proxy variables), or undefined. */
  proxy?: string;
  /** pip's `cert` option: a CA bundle replacing the default one. */
  cert?: string;
  /** The files read, in order, for messages. */
  files: string[];
}

/** Parse INI text as RawConfigParser does: sections, `k = v` or `k: v`, indented continuation lines, # and ; comments. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue; // comments; blank lines may sit inside a multi-line value
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section.set(lastKey, `${section.get(lastKey)}\n${raw.trim()}`);
      continue;
    }
    const sec = /^\[([^\]]+)\]/.exec(raw);
    if (sec) {
      const name = sec[1].trim();
      section = out.get(name) ?? new Map();
      out.set(name, section);
      lastKey = undefined;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv && section) {
      lastKey = normalizeKey(kv[1]);
      section.set(lastKey, kv[2].trim());
    }
  }
  return out;
}

/** pip's _normalize_name: lower case, `_` as `-`, no leading `--`. */
function normalizeKey(k: string): string {
  return k.trim().toLowerCase().replace(/_/g, '-').replace(/^--/, '');
}

/** The config files pip reads, in its order (later wins). */
export function pipConfigFiles(env: NodeJS.ProcessEnv, venv?: string): string[] | 'disabled' {
  const envFile = env.PIP_CONFIG_FILE;
  if (envFile === '/dev/null') return 'disabled';
  const home = env.HOME || homedir();
  const xdgDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter((d) => isAbsolute(d));
  const files = [...xdgDirs.map((d) => join(d, 'pip', 'pip.conf')), '/etc/pip.conf'];
  if (!(envFile && existsSync(envFile))) {
    const xdgHome = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
    files.push(join(home, '.pip', 'pip.conf'), join(xdgHome, 'pip', 'pip.conf'));
  }
  if (venv) files.push(join(venv, 'pip.conf'));
  if (envFile) files.push(envFile);
  return files;
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|yes|true|on)$/i.test(v.trim());
const words = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);

/** What pip would use to find packages for `pip install`. */
export function pipSettings(env: NodeJS.ProcessEnv = process.env, venv?: string): PipSettings {
  const files = pipConfigFiles(env, venv);
  const global = new Map<string, string>();
  const install = new Map<string, string>();
  const read: string[] = [];
  if (files !== 'disabled') {
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      read.push(f);
      const ini = parseIni(text);
      for (const [k, v] of ini.get('global') ?? []) global.set(k, v);
      for (const [k, v] of ini.get('install') ?? []) install.set(k, v);
    }
  }
  const fromEnv = (key: string) => env[`PIP_${key.toUpperCase().replace(/-/g, '_')}`];
  const get = (key: string) => fromEnv(key) ?? install.get(key) ?? global.get(key);
  const noIndex = truthy(get('no-index'));
  const index = words(get('index-url'))[0] ?? PYPI;
  const extra = words(get('extra-index-url'));
  return {
    indexes: noIndex ? [] : [...new Set([index, ...extra])],
    noIndex,
    proxy: get('proxy') || undefined,
    cert: get('cert') || undefined,
    files: read,
  };
}
