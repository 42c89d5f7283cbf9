/**
 * Pure: does a wheel fit an interpreter? PEP 425 tags (the file name's compressed triple or a
 * dist-info WHEEL file's `Tag:` lines) against the interpreter's supported tags (pip's
 * `packaging.tags.sys_tags()`, which already lists manylinux/musllinux compat and abi3), and
 * PEP 345 `Requires-Python` against its version. One owner for the rules, so undo, restore,
 * rebuild and doctor judge a wheel the same way.
 */
import { versionSpec } from './pep508.js';

/** `name-ver(-build)?-py-abi-plat.whl` -> every `py-abi-plat` it stands for, or null if not a wheel name. */
export function tagsOfWheelFile(file: string): string[] | null {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (!base.endsWith('.whl')) return null;
  const parts = base.slice(0, -4).split('-');
  if (parts.length < 5 || parts.length > 6) return null;
  const [py, abi, plat] = parts.slice(-3);
  const out: string[] = [];
  for (const a of py.split('.')) for (const b of abi.split('.')) for (const c of plat.split('.')) out.push(`${a}-${b}-${c}`);
  return out;
}

/** The `Tag:` lines of a WHEEL file (a dist-info's or a wheel's). */
export function tagsOfWheelMeta(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => /^Tag:/i.test(l))
    .map((l) => l.slice(4).trim())
    .filter(Boolean);
}

/** The tags as a file name writes them (`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`). */
export function tagTriple(tags: string[]): string {
  return [0, 1, 2].map((i) => [...new Set(tags.map((t) => t.split('-')[i]))].join('.')).join('-');
}

/**
 * Rank of the best supported tag among `tags` (0 = the interpreter's most preferred, as pip
 * ranks wheels), or -1 when none is supported.
 */
export function tagRank(tags: string[], supported: ReadonlyMap<string, number>): number {
  let best = -1;
  for (const t of tags) {
    const r = supported.get(t.toLowerCase());
    if (r !== undefined && (best < 0 || r < best)) best = r;
  }
  return best;
}

/** Supported tags in pip's order -> tag => rank. */
export function rankTags(tags: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  tags.forEach((t, i) => {
    if (!m.has(t)) m.set(t, i);
  });
  return m;
}

/** Which Python a tag set was built for, in words: `CPython 3.11`, `Python 3`, `PyPy 3.10`. */
export function builtFor(tags: string[]): string {
  const pys = new Set(tags.map((t) => t.split('-')[0]));
  return [...pys]
    .map((p) => {
      const m = /^(cp|pp|py|ip|jy)(\d)(\d*)$/.exec(p);
      if (!m) return p;
      const impl = m[1] === 'cp' ? 'CPython' : m[1] === 'pp' ? 'PyPy' : 'Python';
      return `${impl} ${m[2]}${m[3] ? `.${m[3]}` : ''}`;
    })
    .join('/');
}

/**
 * `Requires-Python` (`>=3.8`, `>=3.7,!=3.8.*,<4`) against a full version (`3.12.1`); an empty or
 * unparsable specifier does not exclude (pip ignores invalid ones with a warning).
 */
export function requiresPythonOk(spec: string | undefined, version: string): boolean {
  if (!spec || !spec.trim()) return true;
  for (const raw of spec.split(',')) {
    const m = /^\s*(===|==|!=|<=|>=|~=|<|>)\s*([0-9][0-9A-Za-z.*+!_-]*)\s*$/.exec(raw);
    if (!m) {
      if (raw.trim()) return true;
      continue;
    }
    if (m[1] === '===') {
      if (m[2] !== version) return false;
    } else if (!versionSpec(version, m[1], m[2])) return false;
  }
  return true;
}

/**
 * Is an extension module file name (`_speedups.cpython-311-x86_64-linux-gnu.so`) loadable by an
 * interpreter with these `importlib.machinery.EXTENSION_SUFFIXES`? Null when the name is not a
 * tagged extension (plain `.so` or not an extension at all): no judgement possible.
 */
export function extensionFits(file: string, suffixes: readonly string[]): boolean | null {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const m = /(\.(?:cpython|pypy|graalpy)[^.]*|\.abi3|\.cp\d+-win[^.]*)\.(so|pyd|dylib)$/i.exec(base);
  if (!m) return null;
  return suffixes.includes(m[0]); // import finds `name` + a suffix: a file with another tag is never loaded
}
