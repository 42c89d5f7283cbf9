/**
 * What an interpreter accepts: its PEP 425 tags in pip's order, its version and its extension
 * module suffixes. Asked once per interpreter (one Python start, ~60 ms with pip's vendored
 * `packaging`) and remembered beside the venv scheme cache (wheel/install.ts), keyed by the
 * real interpreter file and its mtime and size: every later undo/restore reads a small JSON
 * file instead of starting Python.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { replaceViaTemp } from '../fs/durable.js';
import { dirname, join } from 'node:path';
import { PyctlError } from '../errors.js';
import { rankTags } from '../packaging/wheel-tags.js';

export interface InterpreterFacts {
  /** Supported tags, most preferred first (pip's `sys_tags()`). */
  tags: string[];
  /** platform.python_version(): 3.12.1 */
  version: string;
  /** sys.implementation.name: cpython, pypy */
  implementation: string;
  /** importlib.machinery.EXTENSION_SUFFIXES */
  extSuffixes: string[];
  /** Where the tags came from: pip's vendored packaging, packaging, or pyctl's own fallback. */
  tagSource: string;
}

export interface Interpreter extends InterpreterFacts {
  /** tag => rank (0 best). */
  ranks: Map<string, number>;
}

// Python 3.8+; the fallback (no pip, no packaging in the venv) follows packaging.tags for
// CPython on Linux/macOS closely enough to judge kept wheels (no musllinux detection).
const SCRIPT = String.raw`
import sys, os, json, platform, sysconfig, importlib.machinery
src = 'pip'
try:
    from pip._vendor.packaging.tags import sys_tags
except Exception:
    try:
        from packaging.tags import sys_tags
        src = 'packaging'
    except Exception:
        sys_tags = None
        src = 'pyctl'
def fallback():
    v = sys.version_info
    impl = sys.implementation.name
    interp = {'cpython': 'cp', 'pypy': 'pp'}.get(impl, impl[:2]) + '%d%d' % v[:2]
    cfg = sysconfig.get_config_var
    abis = []
    if impl == 'cpython':
        abis.append('cp%d%d%s%s%s' % (v[0], v[1], 't' if cfg('Py_GIL_DISABLED') else '', 'd' if cfg('Py_DEBUG') else '', 'm' if v < (3, 8) and cfg('WITH_PYMALLOC') else ''))
    elif cfg('SOABI'):
        abis.append(cfg('SOABI').replace('.', '_').replace('-', '_'))
    plat = sysconfig.get_platform().replace('-', '_').replace('.', '_')
    plats = []
    if plat.startswith('linux_'):
        arch = plat[6:]
        if arch == 'x86_64' and sys.maxsize <= 2 ** 32:
            arch = 'i686'
        try:
            g = os.confstr('CS_GNU_LIBC_VERSION').split()[1].split('.')
            low = 5 if arch in ('x86_64', 'i686') else 17
            for n in range(int(g[1]), low - 1, -1):
                plats.append('manylinux_2_%d_%s' % (n, arch))
                legacy = {17: 'manylinux2014', 12: 'manylinux2010', 5: 'manylinux1'}.get(n)
                if legacy:
                    plats.append('%s_%s' % (legacy, arch))
        except Exception:
            pass
        plats.append('linux_' + arch)
    else:
        plats.append(plat)
    out = []
    for a in abis:
        out += ['%s-%s-%s' % (interp, a, p) for p in plats]
    if impl == 'cpython':
        out += ['%s-abi3-%s' % (interp, p) for p in plats]
    out += ['%s-none-%s' % (interp, p) for p in plats]
    if impl == 'cpython':
        for m in range(v[1] - 1, 1, -1):
            out += ['cp%d%d-abi3-%s' % (v[0], m, p) for p in plats]
    pys = ['py%d%d' % v[:2], 'py%d' % v[0]] + ['py%d%d' % (v[0], m) for m in range(v[1] - 1, -1, -1)]
    for py in pys:
        out += ['%s-none-%s' % (py, p) for p in plats]
    out.append('%s-none-any' % interp)
    out += ['%s-none-any' % py for py in pys]
    return out
tags = [str(t) for t in sys_tags()] if sys_tags else fallback()
sys.stdout.write(json.dumps(dict(tags=tags, version=platform.python_version(), implementation=sys.implementation.name,
    extSuffixes=list(importlib.machinery.EXTENSION_SUFFIXES), tagSource=src)))
`;

/** Where an interpreter's facts are remembered (null: the interpreter cannot be stat'ed). */
function cachePath(cacheDir: string, python: string): string | null {
  try {
    const real = realpathSync(python);
    const st = statSync(real);
    const key = [real, st.mtimeMs, st.size].join('\0');
    return join(cacheDir, 'tags', `${createHash('sha1').update(key).digest('hex')}.json`);
  } catch {
    return null;
  }
}

const memo = new Map<string, Interpreter>();

/** The facts of `python` (a venv's bin/python or a base interpreter), cached in `cacheDir`. */
export function interpreterFacts(python: string, cacheDir: string): Interpreter {
  const path = cachePath(cacheDir, python);
  const hit = path ? memo.get(path) : undefined;
  if (hit) return hit;
  let facts: InterpreterFacts | null = null;
  if (path) {
    try {
      facts = JSON.parse(readFileSync(path, 'utf8')) as InterpreterFacts;
      if (!Array.isArray(facts.tags) || !facts.tags.length) facts = null;
    } catch {
      facts = null;
    }
  }
  if (!facts) {
    // -I: neither the cwd nor PYTHON* variables change what the interpreter reports.
    const r = spawnSync(python, ['-I', '-c', SCRIPT], { encoding: 'utf8', cwd: dirname(python), env: { ...process.env, PYCTL_NO_RECORD: '1' } });
    try {
      if (r.status !== 0) throw new Error((r.stderr || r.error?.message || `exit status ${r.status}`).trim().split('\n').pop());
      facts = JSON.parse(r.stdout) as InterpreterFacts;
    } catch (e) {
      throw new PyctlError('VENV_BROKEN', `cannot ask ${python} which wheels it accepts: ${(e as Error).message}`, 'check that the venv runs (pyctl doctor); nothing was changed');
    }
    if (path) {
      try {
        mkdirSync(dirname(path), { recursive: true });
        replaceViaTemp(path, (tmp) => writeFileSync(tmp, JSON.stringify(facts)));
      } catch {
        // An unwritable cache costs the next run one interpreter start.
      }
    }
  }
  const out = { ...facts, ranks: rankTags(facts.tags) };
  if (path) memo.set(path, out);
  return out;
}
