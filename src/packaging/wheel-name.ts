/** Pure: wheel file names, `{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`. */
import { canonicalName } from './names.js';
import { normalizeVersion } from './pep440.js';

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
