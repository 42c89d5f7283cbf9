/**
 * Pure: the package set for "the state before an operation plus some of its changes", with
 * dependency pins kept consistent where the operation's own changes can do it. A requirement the
 * operation's end state satisfies but the subset breaks pulls in the change of the package
 * required (or else of the package requiring it); one nothing can fix makes the subset
 * unbuildable, and says why.
 */
import type { Change, PackageSet } from '../plan/changes.js';
import type { MarkerEnv, Requirement } from '../packaging/pep508.js';
import { requirementActive, versionSpec } from '../packaging/pep508.js';

/** Requirements of a package version, or null when unknown (no wheel to read them from). */
export type RequiresOf = (name: string, version: string) => Requirement[] | null;

/** Does `version` meet a specifier list (`>=2,<3`, `(==1.*)`, '' or a URL: always)? */
export function satisfies(version: string, spec: string): boolean {
  const s = spec
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  if (!s || s.startsWith('@')) return true;
  for (const clause of s.split(',')) {
    const m = /^\s*(===|==|!=|~=|<=|>=|<|>)\s*(\S+)\s*$/.exec(clause);
    if (!m) return true; // unreadable: do not block on it
    if (m[1] === '===' ? version !== m[2] : !versionSpec(version, m[1], m[2])) return false;
  }
  return true;
}

export function applyChanges(before: PackageSet, after: PackageSet, changes: Change[], chosen: Iterable<number>): PackageSet {
  const out: PackageSet = new Map(before);
  for (const i of chosen) {
    const c = changes[i];
    if (c.kind === 'removed') out.delete(c.key);
    else out.set(c.key, after.get(c.key)!);
  }
  return out;
}

/** Each unmet requirement in a set: [who needs it, the requirement]. */
function unmet(set: PackageSet, requiresOf: RequiresOf, env: MarkerEnv): [string, Requirement][] {
  const out: [string, Requirement][] = [];
  for (const [key, e] of set) {
    for (const r of requiresOf(e.name, e.version) ?? []) {
      if (!requirementActive(r, env, [])) continue;
      const have = set.get(r.key);
      if (!have || !satisfies(have.version, r.spec)) out.push([key, r]);
    }
  }
  return out;
}

export interface Subset {
  set: PackageSet;
  /** The changes applied: the chosen ones plus those pulled in to keep pins consistent. */
  applied: number[];
  /** `a 2.0 needs b>=3`: requirements nothing in the operation could meet (the subset is not built). */
  broken: string[];
}

export function consistentSubset(before: PackageSet, after: PackageSet, changes: Change[], chosen: number[], requiresOf: RequiresOf, env: MarkerEnv): Subset {
  const applied = new Set(chosen);
  const byKey = new Map(changes.map((c, i) => [c.key, i]));
  // Already unmet before or after the operation: not the subset's doing, nothing to fix.
  const id = (set: PackageSet, [who, r]: [string, Requirement]) => `${who} ${set.get(who)!.version} ${r.key} ${r.spec}`;
  const known = new Set([...unmet(before, requiresOf, env).map((p) => id(before, p)), ...unmet(after, requiresOf, env).map((p) => id(after, p))]);
  for (let round = 0; round <= changes.length; round++) {
    const set = applyChanges(before, after, changes, applied);
    const problems = unmet(set, requiresOf, env).filter((p) => !known.has(id(set, p)));
    if (!problems.length) return { set, applied: [...applied].sort((a, b) => a - b), broken: [] };
    const broken: string[] = [];
    let grew = false;
    for (const [who, r] of problems) {
      const fix = [byKey.get(r.key), byKey.get(who)].find((i) => i !== undefined && !applied.has(i));
      if (fix !== undefined) {
        applied.add(fix);
        grew = true;
      } else broken.push(`${set.get(who)!.name} ${set.get(who)!.version} needs ${r.name}${r.spec ? ` ${r.spec}` : ''}`);
    }
    if (!grew) return { set, applied: [...applied].sort((a, b) => a - b), broken };
  }
  return { set: applyChanges(before, after, changes, applied), applied: [...applied].sort((a, b) => a - b), broken: [] };
}

/** Order an operation's changes so that what a change needs comes before it (then prefixes are mostly consistent already). */
export function dependencyOrder(changes: Change[], after: PackageSet, requiresOf: RequiresOf, env: MarkerEnv): Change[] {
  const keys = new Set(changes.map((c) => c.key));
  const needs = new Map<string, string[]>();
  for (const c of changes) {
    const e = after.get(c.key);
    const reqs = e ? (requiresOf(e.name, e.version) ?? []) : [];
    needs.set(
      c.key,
      reqs.filter((r) => keys.has(r.key) && r.key !== c.key && requirementActive(r, env, [])).map((r) => r.key),
    );
  }
  const out: Change[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byKey = new Map(changes.map((c) => [c.key, c]));
  const visit = (k: string) => {
    if (state.get(k)) return; // done, or a cycle: keep the order so far
    state.set(k, 'visiting');
    for (const d of [...(needs.get(k) ?? [])].sort()) visit(d);
    state.set(k, 'done');
    out.push(byKey.get(k)!);
  };
  for (const c of [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) visit(c.key);
  return out;
}
