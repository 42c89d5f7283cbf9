/**
 * Pure: PEP 751 lock files (pylock.toml), read and written. Reading validates what pyctl needs
 * and refuses, in one line naming it, what it cannot install; choosing what applies to an
 * environment (markers, environments, requires-python) follows the spec's installer steps.
 * TOML itself is src/toml.ts's.
 */
import { PyctlError } from '../errors.js';
import { parseToml, stringifyToml, TomlSyntaxError, type TomlTable } from '../toml.js';
import { MarkerError, evaluateMarker, type MarkerEnv } from './pep508.js';
import { canonicalName } from './names.js';

export interface LockFile {
  name?: string;
  url?: string;
  path?: string;
  size?: number;
  hashes: Record<string, string>;
}

export interface LockPackage {
  name: string;
  version?: string;
  marker?: string;
  'requires-python'?: string;
  index?: string;
  wheels?: LockFile[];
  sdist?: LockFile;
  archive?: LockFile & { subdirectory?: string };
  vcs?: { type: string; url?: string; path?: string; 'requested-revision'?: string; 'commit-id': string; subdirectory?: string };
  directory?: { path: string; editable?: boolean; subdirectory?: string };
}

export interface Lock {
  'lock-version': string;
  'created-by': string;
  'requires-python'?: string;
  environments?: string[];
  packages: LockPackage[];
}

/** Is this file name one PEP 751 allows (pylock.toml, pylock.NAME.toml)? */
export const isPylockName = (file: string) => /^pylock\.([^.]+\.)?toml$/.test(file.slice(file.lastIndexOf('/') + 1));

const bad = (file: string, what: string) => new PyctlError('BAD_LOCK', `${file}: ${what}`, 'pyctl reads PEP 751 lock files (pylock.toml) as pip lock, uv and pyctl export write them');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === 'string';

function fileEntry(v: unknown, file: string, where: string): LockFile {
  if (!isObj(v)) throw bad(file, `${where} is not a table`);
  if (!isObj(v.hashes) || !Object.keys(v.hashes).length) throw bad(file, `${where} has no hashes (PEP 751 requires them)`);
  if (!str(v.url) && !str(v.path)) throw bad(file, `${where} has neither url nor path`);
  const hashes: Record<string, string> = {};
  for (const [k, h] of Object.entries(v.hashes)) if (str(h)) hashes[k.toLowerCase()] = h.toLowerCase();
  return { ...(str(v.name) ? { name: v.name } : {}), ...(str(v.url) ? { url: v.url } : {}), ...(str(v.path) ? { path: v.path } : {}), ...(typeof v.size === 'number' ? { size: v.size } : {}), hashes };
}

/** Parse and check a pylock.toml's text; `file` names it in errors. */
export function parsePylock(text: string, file: string): Lock {
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlSyntaxError) throw bad(`${file}:${e.line}:${e.column}`, e.reason);
    throw e;
  }
  const version = doc['lock-version'];
  if (!str(version)) throw bad(file, 'no lock-version: not a PEP 751 lock file');
  if (!/^1(\.\d+)?$/.test(version)) throw bad(file, `lock-version ${version} is not supported (pyctl reads 1.x)`);
  if (!Array.isArray(doc.packages)) throw bad(file, 'no [[packages]]');
  const packages = doc.packages.map((raw, i): LockPackage => {
    if (!isObj(raw) || !str(raw.name)) throw bad(file, `packages[${i}] has no name`);
    const where = `package ${raw.name}`;
    const p: LockPackage = { name: raw.name };
    for (const k of ['version', 'marker', 'requires-python', 'index'] as const) if (str(raw[k])) p[k] = raw[k];
    if (raw.wheels !== undefined) {
      if (!Array.isArray(raw.wheels)) throw bad(file, `${where}: wheels is not an array`);
      p.wheels = raw.wheels.map((w, j) => fileEntry(w, file, `${where} wheels[${j}]`));
    }
    if (raw.sdist !== undefined) p.sdist = fileEntry(raw.sdist, file, `${where} sdist`);
    if (raw.archive !== undefined)
      p.archive = { ...fileEntry(raw.archive, file, `${where} archive`), ...(isObj(raw.archive) && str(raw.archive.subdirectory) ? { subdirectory: raw.archive.subdirectory } : {}) };
    if (raw.vcs !== undefined) {
      const v = raw.vcs;
      if (!isObj(v) || !str(v.type) || !str(v['commit-id']) || (!str(v.url) && !str(v.path))) throw bad(file, `${where}: vcs needs type, url or path, and commit-id`);
      p.vcs = {
        type: v.type,
        'commit-id': v['commit-id'],
        ...(str(v.url) ? { url: v.url } : {}),
        ...(str(v.path) ? { path: v.path } : {}),
        ...(str(v.subdirectory) ? { subdirectory: v.subdirectory } : {}),
      };
    }
    if (raw.directory !== undefined) {
      const d = raw.directory;
      if (!isObj(d) || !str(d.path)) throw bad(file, `${where}: directory needs a path`);
      p.directory = { path: d.path, ...(d.editable === true ? { editable: true } : {}), ...(str(d.subdirectory) ? { subdirectory: d.subdirectory } : {}) };
    }
    const kinds = [p.wheels || p.sdist ? 'wheels/sdist' : '', p.archive ? 'archive' : '', p.vcs ? 'vcs' : '', p.directory ? 'directory' : ''].filter(Boolean);
    if (kinds.length !== 1) throw bad(file, kinds.length ? `${where} has more than one source (${kinds.join(', ')})` : `${where} has no source (wheels, sdist, archive, vcs or directory)`);
    return p;
  });
  return {
    'lock-version': version,
    'created-by': str(doc['created-by']) ? doc['created-by'] : '',
    ...(str(doc['requires-python']) ? { 'requires-python': doc['requires-python'] } : {}),
    ...(Array.isArray(doc.environments) ? { environments: doc.environments.filter(str) } : {}),
    packages,
  };
}

/** pylock.toml text: the comment lines, then the document. */
export function renderPylock(lock: Lock, comments: string[] = []): string {
  return comments.map((c) => `# ${c}\n`).join('') + stringifyToml(lock as unknown as TomlTable);
}

function markerApplies(marker: string, env: MarkerEnv, file: string, where: string): boolean {
  try {
    return evaluateMarker(marker, env);
  } catch (e) {
    if (e instanceof MarkerError) throw bad(file, `${where}: marker '${marker}' is not supported (${e.message.split(':')[0]})`);
    throw e;
  }
}

/**
 * The packages that apply to an environment, as the spec's installer steps choose them:
 * requires-python and environments must admit it, packages whose marker is false are skipped,
 * and a name may be left only once. `pythonOk(spec)` checks a Requires-Python specifier.
 */
export function applicablePackages(lock: Lock, env: MarkerEnv, pythonOk: (spec: string) => boolean, file: string): { packages: LockPackage[]; skipped: string[] } {
  const rp = lock['requires-python'];
  if (rp && !pythonOk(rp)) throw bad(file, `requires-python ${rp} does not admit this venv's Python ${env.python_full_version}`);
  if (lock.environments?.length && !lock.environments.some((m) => markerApplies(m, env, file, 'environments'))) {
    throw bad(file, `none of its environments applies to this venv (${lock.environments.join('; ')})`);
  }
  const packages: LockPackage[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const p of lock.packages) {
    const where = `package ${p.name}`;
    if (p.marker && !markerApplies(p.marker, env, file, where)) {
      skipped.push(`${p.name}${p.version ? ` ${p.version}` : ''} (${p.marker})`);
      continue;
    }
    if (p['requires-python'] && !pythonOk(p['requires-python'])) throw bad(file, `${where} requires Python ${p['requires-python']}, not ${env.python_full_version}`);
    const key = canonicalName(p.name);
    if (seen.has(key)) throw bad(file, `${p.name} is listed more than once for this environment`);
    seen.add(key);
    packages.push(p);
  }
  return { packages, skipped };
}
