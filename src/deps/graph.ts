/**
 * Who needs what in a venv: each installed distribution's `Requires-Dist` (or an egg-info's
 * requires.txt), with markers evaluated for the venv's Python and this platform, walked from
 * the packages the user asked for (REQUESTED). Used by `autoremove` and `why`.
 */
import { readFileSync } from 'node:fs';
import { arch, machine, platform, release, version as osVersion } from 'node:os';
import { parseHeaders, readHeaderText } from '../packaging/headers.js';
import type { Installed } from '../venv/freeze.js';
import { venvPythonVersion } from '../venv/syspath.js';
import { readPyvenvCfg } from '../venv/pyvenv.js';
import { canonicalName } from '../packaging/names.js';
import { MarkerError, parseRequirement, requirementActive, type MarkerEnv, type Requirement } from '../packaging/pep508.js';

/** Never removed by autoremove, and treated as asked for: the venv's own tooling. */
export const ALWAYS_KEEP = new Set(['pip', 'setuptools', 'wheel']);

export interface Node {
  key: string;
  name: string;
  version: string;
  requested: boolean;
  requires: Requirement[];
  /** Requirements that could not be read (kept out of the walk, reported by callers). */
  unreadable: string[];
}

/** The marker environment of a venv, without starting Python (version from pyvenv.cfg). */
export function venvMarkerEnv(venv: string): MarkerEnv {
  const full = venvPythonVersion(venv);
  const [maj, min] = full.split('.');
  const impl = /pypy/i.test(readPyvenvCfg(venv).home ?? '') ? 'pypy' : 'cpython';
  const sys = platform();
  return {
    python_version: `${maj}.${min}`,
    python_full_version: full,
    implementation_name: impl,
    implementation_version: full,
    platform_python_implementation: impl === 'pypy' ? 'PyPy' : 'CPython',
    os_name: sys === 'win32' ? 'nt' : 'posix',
    sys_platform: sys === 'win32' ? 'win32' : sys,
    platform_system: sys === 'darwin' ? 'Darwin' : sys === 'linux' ? 'Linux' : sys === 'win32' ? 'Windows' : sys,
    platform_release: release(),
    platform_version: osVersion(),
    platform_machine: typeof machine === 'function' ? machine() : arch(),
    extra: '',
  };
}

/** requires.txt of an egg-info: `[extra]`, `[:marker]` and `[extra:marker]` sections. */
export function eggRequires(text: string): string[] {
  const out: string[] = [];
  let extra = '';
  let marker = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sec = /^\[([^\]:]*)(?::(.*))?\]$/.exec(line);
    if (sec) {
      extra = sec[1].trim();
      marker = (sec[2] ?? '').trim();
      continue;
    }
    const conds = [marker && `(${marker})`, extra && `extra == "${extra}"`].filter(Boolean);
    out.push(conds.length ? `${line}; ${conds.join(' and ')}` : line);
  }
  return out;
}

function requiresOf(d: Installed): string[] {
  if (d.format === 'dist-info') {
    const text = readHeaderText(`${d.infoPath}/METADATA`);
    return text === null
      ? []
      : parseHeaders(text)
          .filter(([k]) => k.toLowerCase() === 'requires-dist')
          .map(([, v]) => v);
  }
  // egg-info (a directory, or a PKG-INFO file for egg-links): requires.txt next to PKG-INFO.
  try {
    return eggRequires(readFileSync(`${d.infoPath}/requires.txt`, 'utf8'));
  } catch {
    const text = readHeaderText(d.infoPath.endsWith('PKG-INFO') ? d.infoPath : `${d.infoPath}/PKG-INFO`);
    return text === null
      ? []
      : parseHeaders(text)
          .filter(([k]) => k.toLowerCase() === 'requires-dist')
          .map(([, v]) => v);
  }
}

export function nodesOf(installed: Installed[]): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const d of installed) {
    const requires: Requirement[] = [];
    const unreadable: string[] = [];
    for (const r of requiresOf(d)) {
      try {
        requires.push(parseRequirement(r));
      } catch (e) {
        if (!(e instanceof MarkerError)) throw e;
        unreadable.push(r);
      }
    }
    out.set(d.key, { key: d.key, name: d.name, version: d.version, requested: d.requested, requires, unreadable });
  }
  return out;
}

export interface Walk {
  /** Every key reachable from the roots, with the extras active on it. */
  needed: Map<string, Set<string>>;
  /** For each reached key: the key that first pulled it in (roots map to null). */
  parent: Map<string, string | null>;
}

/**
 * Walk requirements from `roots`. On a root, the extras asked for are `rootExtras` (known from
 * the recorded commands) when given; without it an extra counts when one of its requirements is
 * installed (pip records no `pkg[extra]`: autoremove keeps rather than removes). Below the roots
 * an extra is active only when a requirement names it (`pkg[extra]`).
 */
export function walk(nodes: Map<string, Node>, roots: string[], env: MarkerEnv, rootExtras?: Map<string, Set<string>>): Walk {
  const needed = new Map<string, Set<string>>();
  const parent = new Map<string, string | null>();
  const queue: string[] = [];
  const reach = (key: string, extras: Iterable<string>, from: string | null) => {
    if (!nodes.has(key)) return; // required but not installed: nothing to keep
    let have = needed.get(key);
    const fresh = !have;
    if (!have) needed.set(key, (have = new Set()));
    let grew = false;
    for (const e of extras)
      if (!have.has(e)) {
        have.add(e);
        grew = true;
      }
    if (fresh) parent.set(key, from);
    if (fresh || grew) queue.push(key);
  };
  for (const r of roots) {
    const n = nodes.get(r);
    if (!n) continue;
    const extras = new Set<string>(rootExtras?.get(r) ?? []);
    if (!rootExtras)
      for (const req of n.requires) {
        if (!nodes.has(req.key) || !req.markerText || !/\bextra\b/.test(req.markerText)) continue;
        for (const e of extrasNamedIn(req.markerText)) if (req.marker!({ ...env, extra: e })) extras.add(e);
      }
    reach(r, extras, null);
  }
  while (queue.length) {
    const key = queue.shift()!;
    const n = nodes.get(key)!;
    const extras = needed.get(key)!;
    for (const req of n.requires) {
      if (req.key === key && !req.extras.length) continue;
      if (requirementActive(req, env, extras)) reach(req.key, req.extras, key);
    }
  }
  return { needed, parent };
}

/** The extra names a marker compares `extra` with (`extra == "fast"`, `"fast" == extra`). */
function extrasNamedIn(marker: string): string[] {
  const out: string[] = [];
  const re = /extra\s*==\s*["']([^"']+)["']|["']([^"']+)["']\s*==\s*extra/g;
  for (let m; (m = re.exec(marker));) out.push(canonicalName(m[1] ?? m[2]));
  return out;
}

/** The roots: what the user asked for, plus pip/setuptools/wheel. */
export function rootsOf(nodes: Map<string, Node>): string[] {
  return [...nodes.values()].filter((n) => n.requested || ALWAYS_KEEP.has(n.key)).map((n) => n.key);
}

/** Installed keys nothing asked for needs any more. */
export function orphans(nodes: Map<string, Node>, env: MarkerEnv): string[] {
  const { needed } = walk(nodes, rootsOf(nodes), env);
  return [...nodes.keys()].filter((k) => !needed.has(k) && !ALWAYS_KEEP.has(k)).sort();
}

/**
 * For each requested package that pulls `target` in: the shortest chain of names to it. With
 * `rootExtras`, a root's extras count only when they are known to have been asked for.
 */
export function whyChains(nodes: Map<string, Node>, target: string, env: MarkerEnv, rootExtras?: Map<string, Set<string>>): string[][] {
  const chains: string[][] = [];
  for (const root of rootsOf(nodes)) {
    if (root === target) continue;
    const { parent } = walk(nodes, [root], env, rootExtras);
    if (!parent.has(target)) continue;
    const chain: string[] = [];
    for (let k: string | null | undefined = target; k; k = parent.get(k)) chain.unshift(nodes.get(k)!.name);
    chains.push(chain);
  }
  return chains.sort((a, b) => a.length - b.length || a[0].localeCompare(b[0]));
}
