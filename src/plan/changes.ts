/** Pure: compare two package sets (freeze files) and name what changed. */
import { directUrl } from '../packaging/parse-freeze.js';
import { compareVersions } from '../packaging/pep440.js';
import { parseWheelName } from '../packaging/wheel-name.js';

export interface PackageEntry {
  name: string;
  version: string;
  line: string;
}
export type PackageSet = Map<string, PackageEntry>;

export type Change =
  | { kind: 'added'; key: string; name: string; to: string }
  | { kind: 'removed'; key: string; name: string; from: string }
  | { kind: 'upgraded' | 'downgraded' | 'changed'; key: string; name: string; from: string; to: string };

export interface ChangeCounts {
  added: number;
  removed: number;
  upgraded: number;
  downgraded: number;
  changed: number;
}

/** A version change's kind: one rule for diffs and for counts read back from commit bodies. */
function moveKind(from: string, to: string): 'upgraded' | 'downgraded' | 'changed' {
  const c = compareVersions(from, to);
  return c < 0 ? 'upgraded' : c > 0 ? 'downgraded' : 'changed';
}

/**
 * What a change shows as an entry's version: its pin, else a wheel URL's file name's version
 * (`torch @ file:///…/torch-2.13.0+cpu-….whl`), else `@ URL` (a folder or sdist names none).
 */
export function shownVersion(e: PackageEntry): string {
  if (e.version) return e.version;
  const url = directUrl(e.line.split('\n').pop()!);
  if (!url) return e.version;
  const wheel = parseWheelName(decodeURIComponent(url.split('#')[0].split('?')[0]));
  return wheel ? wheel.version : `@ ${url}`;
}

export function diffSets(before: PackageSet, after: PackageSet): Change[] {
  const out: Change[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    if (!b) out.push({ kind: 'added', key, name: a.name, to: shownVersion(a) });
    else if (b.line !== a.line) {
      const [from, to] = [shownVersion(b), shownVersion(a)];
      out.push({ kind: moveKind(from, to), key, name: a.name, from, to });
    }
  }
  for (const [key, b] of before) {
    if (!after.has(key)) out.push({ kind: 'removed', key, name: b.name, from: shownVersion(b) });
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

export function countChanges(changes: Change[]): ChangeCounts {
  const counts: ChangeCounts = { added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 0 };
  for (const c of changes) counts[c.kind]++;
  return counts;
}

/** The one-line-per-package form used in commit bodies: `+ name ver`, `- name ver`, `~ name a -> b`. */
export function changeLine(c: Change): string {
  switch (c.kind) {
    case 'added':
      return `+ ${c.name} ${c.to}`;
    case 'removed':
      return `- ${c.name} ${c.from}`;
    default:
      return `~ ${c.name} ${c.from} -> ${c.to}`;
  }
}

/** Change counts read back from a commit body (changeLine's lines): no blob reads needed. */
export function countsFromBody(body: string): ChangeCounts {
  const c: ChangeCounts = { added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 0 };
  for (const l of body.split('\n')) {
    if (l.startsWith('+ ')) c.added++;
    else if (l.startsWith('- ')) c.removed++;
    else {
      const m = /^~ \S+ (.*?) ->(?: (.*))?$/.exec(l); // a direct URL's empty versions may lose the trailing space
      if (m) c[moveKind(m[1], m[2] ?? '')]++;
    }
  }
  return c;
}
