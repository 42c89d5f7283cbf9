/** Pure: wheel file names, `{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`. */
import { canonicalName, normalizeVersion } from '../venv/freeze.js';

export interface WheelName {
  key: string;
  version: string;
  file: string;
}

export function parseWheelName(file: string): WheelName | null {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const m = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(base);
  if (!m) return null;
  return { key: canonicalName(m[1]), version: normalizeVersion(m[2]) ?? m[2], file: base };
}

/** The key under which a (name, version) pair is looked up. */
export function wheelKey(name: string, version: string): string {
  return `${canonicalName(name)}==${normalizeVersion(version) ?? version}`;
}

/**
 * Does a wheel file's tag set (`py2.py3-none-any`, `cp311-cp311-manylinux…`) fit an interpreter
 * accepting `tags`? Without tags, only pure Python 3 wheels are taken to fit.
 */
export function wheelFits(file: string, tags: Set<string> | null): boolean {
  const parts = file.slice(file.lastIndexOf('/') + 1).replace(/\.whl$/, '').split('-');
  if (parts.length < 5) return false;
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  if (!tags) return abi === 'none' && plat === 'any' && py.split('.').some((p) => p === 'py3');
  for (const a of py.split('.')) for (const b of abi.split('.')) for (const c of plat.split('.')) if (tags.has(`${a}-${b}-${c}`)) return true;
  return false;
}
