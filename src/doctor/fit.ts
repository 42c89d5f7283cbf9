/**
 * Do the installed packages fit the venv's interpreter? Finds, from files alone (the interpreter's
 * tags come from the cache in venv/tags.ts): dist-infos whose WHEEL tags or Requires-Python do not
 * fit (judged by reconcile/sources.ts's fitProblem, the same rule undo and restore follow),
 * dist-infos without a RECORD or missing files their RECORD lists, and extension modules built
 * for another Python (`_speedups.cpython-311-x86_64-linux-gnu.so` in a 3.12 venv) that import
 * would never load. The repair (`repairFit`) reinstalls through the same path as undo.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { headerIn } from '../packaging/headers.js';
import { extensionFits, tagsOfWheelMeta } from '../packaging/wheel-tags.js';
import { fitProblem } from '../reconcile/sources.js';
import type { Interpreter } from '../venv/tags.js';
import { readInstalled, type Installed } from '../venv/freeze.js';
import { parseRecord } from '../wheel/record.js';

export interface Misfit {
  /** The installed distribution, or null for a file no RECORD lists. */
  dist: Installed | null;
  /** The file concerned (a stray extension module), if any. */
  file?: string;
  why: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Every site-packages folder of the venv (lib/pythonX.Y/site-packages). */
function siteDirs(venv: string): string[] {
  const lib = join(venv, 'lib');
  let names: string[] = [];
  try {
    names = readdirSync(lib).filter((n) => /^python\d/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => join(lib, n, 'site-packages')).filter((d) => existsSync(d));
}

/**
 * Every entry under a folder that is not a folder (no symlinked folders followed), as paths
 * relative to it, and which of them are regular files (absolute paths).
 */
function walk(dir: string, out: string[], files: Set<string>, rel = ''): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(p, out, files, `${rel}${e.name}/`);
    else {
      out.push(rel + e.name);
      if (e.isFile()) files.add(p);
    }
  }
}

/** A RECORD path that joins its folder as it is (no `.`/`..` segment, not absolute, no `//`, no `/` at the end). */
const PLAIN = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))(?!.*\/\/)(?!.*\/$)/;
const EXTENSION = /\.(so|pyd|dylib)$/i;

export function findMisfits(venv: string, it: Interpreter): Misfit[] {
  const out: Misfit[] = [];
  // site-packages read once (one readdir per folder): RECORD rows are looked up in it instead of
  // a stat each (a row not found there, e.g. a script in bin/ or a symlink, is still stat'ed),
  // and the extension modules are found in it.
  const sites = siteDirs(venv).map((site) => {
    const rels: string[] = [];
    const files = new Set<string>();
    walk(site, rels, files);
    return { site, rels, files };
  });
  const exists = (abs: string) => sites.some((s) => s.files.has(abs)) || existsSync(abs);
  const owner = new Map<string, Installed>(); // absolute extension module -> the dist whose RECORD lists it
  for (const d of readInstalled(venv)) {
    if (d.format !== 'dist-info') continue;
    const record = read(join(d.infoPath, 'RECORD'));
    if (record === null) {
      out.push({ dist: d, why: 'its RECORD is missing (a half-finished install?): pip cannot uninstall or upgrade it' });
      continue;
    }
    const base = resolve(dirname(d.infoPath));
    const missing: string[] = [];
    for (const row of parseRecord(record)) {
      if (!row[0]) continue;
      const abs = PLAIN.test(row[0]) ? `${base}/${row[0]}` : resolve(base, row[0]);
      if (EXTENSION.test(abs)) owner.set(abs, d);
      // .pyc files are rebuilt on import; anything else missing means the package is damaged.
      if (!/\.py[co]$/.test(row[0]) && !exists(abs)) missing.push(row[0]);
    }
    if (missing.length) {
      out.push({ dist: d, why: `${missing.length} file(s) its RECORD lists are missing (${missing.slice(0, 2).join(', ')}${missing.length > 2 ? ', …' : ''})` });
      continue;
    }
    const wheel = read(join(d.infoPath, 'WHEEL'));
    const meta = read(join(d.infoPath, 'METADATA'));
    const problem = fitProblem(wheel ? tagsOfWheelMeta(wheel) : [], meta ? headerIn(meta, 'Requires-Python') : undefined, it);
    if (problem) out.push({ dist: d, why: problem });
  }
  const flagged = new Set(out.map((m) => m.dist));
  for (const { site, rels } of sites) {
    for (const rel of rels) {
      if (extensionFits(rel, it.extSuffixes) !== false) continue;
      const abs = join(site, rel);
      const d = owner.get(abs) ?? null;
      if (d && flagged.has(d)) continue; // already named (its WHEEL says the same)
      out.push({ dist: d, file: abs, why: `${rel} is an extension module for another Python (this ${it.implementation} ${it.version} never loads it)` });
      if (d) flagged.add(d);
    }
  }
  return out;
}

/** One line per misfit: `markupsafe 2.1.3: built for CPython 3.11 (…)`. */
export function misfitLine(m: Misfit): string {
  return m.dist ? `${m.dist.name} ${m.dist.version}: ${m.why}` : `${m.why} (no installed package lists it)`;
}

/** Stray extension modules no RECORD lists are deleted (this interpreter never loads them). */
export function removeStrays(misfits: Misfit[]): string[] {
  const gone: string[] = [];
  for (const m of misfits) {
    if (m.dist || !m.file) continue;
    rmSync(m.file, { force: true });
    gone.push(m.file);
  }
  return gone;
}
