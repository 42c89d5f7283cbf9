/**
 * Pure: installed set + target set -> what to uninstall, what to install at an exact version,
 * and how many to leave alone. Work is proportional to the difference, never to the venv.
 */
import { diffSets, type Change, type PackageEntry, type PackageSet } from './changes.js';

export interface Step extends PackageEntry {
  key: string;
}

export interface ReconcilePlan {
  /** Installed entries to take out (including the old side of a version change). */
  remove: Step[];
  /** Target entries to put in. */
  install: Step[];
  keep: number;
}

/** pip is never uninstalled (the venv would lose its installer); only its version follows the target. */
const NEVER_REMOVE = new Set(['pip']);

/** `reinstall`: keys taken out and put back even when the target's line is the installed one (doctor's repair of a broken or misfit build). */
export function planReconcile(installed: PackageSet, target: PackageSet, reinstall: ReadonlySet<string> = new Set()): ReconcilePlan {
  const plan: ReconcilePlan = { remove: [], install: [], keep: 0 };
  for (const [key, have] of installed) {
    const want = target.get(key);
    if (want && want.line === have.line && !reinstall.has(key)) plan.keep++;
    else if (want) {
      plan.remove.push({ key, ...have });
      plan.install.push({ key, ...want });
    } else if (NEVER_REMOVE.has(key)) plan.keep++;
    else plan.remove.push({ key, ...have });
  }
  for (const [key, want] of target) if (!installed.has(key)) plan.install.push({ key, ...want });
  const byKey = (a: Step, b: Step) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  plan.remove.sort(byKey);
  plan.install.sort(byKey);
  return plan;
}

export function planIsEmpty(p: ReconcilePlan): boolean {
  return p.remove.length === 0 && p.install.length === 0;
}

/** Target text with entries the planner never removes (pip) carried over from the installed set. */
export function expectedAfter(installed: PackageSet, target: PackageSet): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of target) out.set(k, v.line);
  for (const k of NEVER_REMOVE) {
    const have = installed.get(k);
    if (have && !target.has(k)) out.set(k, have.line);
  }
  return out;
}

/** What reconciling would change, in the same terms a recorded operation's changes are in. */
export function plannedChanges(installed: PackageSet, target: PackageSet): Change[] {
  const after: PackageSet = new Map(target);
  for (const k of NEVER_REMOVE) {
    const have = installed.get(k);
    if (have && !target.has(k)) after.set(k, have);
  }
  return diffSets(installed, after);
}
