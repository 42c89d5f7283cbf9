/**
 * Run the check table: every check once, then with --fix each fixable finding in dependency
 * order. A fix makes only the checks that read what it wrote look again (before their own fix,
 * and once more for the report), so a clean home is read once and each repair re-reads little.
 */
import { withLock } from '../gitstore/lock.js';
import { PyctlError } from '../errors.js';
import type { Context } from '../operations/context.js';
import type { Check, CheckResult, Finding, Resource } from './check.js';
import { CHECKS } from './checks/index.js';
import { Scan, type DoctorOptions } from './scan.js';

export type { DoctorOptions } from './scan.js';

export interface DoctorResult extends CheckResult {
  /** Whether `pyctl doctor --fix` would repair it (drives "fix:" against "to do:"). */
  fixable: boolean;
}

/** The order fixes run in: the table's, but each check after the checks its `after` names. */
export function fixOrder(checks: readonly Check[] = CHECKS): Check[] {
  const done = new Set<string>();
  const out: Check[] = [];
  const names = new Set(checks.map((c) => c.name));
  while (out.length < checks.length) {
    const next = checks.find((c) => !done.has(c.name) && (c.after ?? []).every((a) => done.has(a) || !names.has(a)));
    if (!next)
      throw new Error(
        `doctor checks: a cycle in 'after' among ${checks
          .filter((c) => !done.has(c.name))
          .map((c) => c.name)
          .join(', ')}`,
      );
    done.add(next.name);
    out.push(next);
  }
  return out;
}

export async function runDoctor(ctx: Context, opts: DoctorOptions): Promise<DoctorResult[]> {
  const scan = new Scan(ctx, opts);
  const found = new Map<string, Finding | null>();
  const dirty = new Set<string>(CHECKS.map((c) => c.name));
  const look = async (c: Check) => {
    if (!dirty.has(c.name)) return found.get(c.name) ?? null;
    dirty.delete(c.name);
    const f = await c.run(scan);
    found.set(c.name, f);
    return f;
  };
  for (const c of CHECKS) await look(c);

  const fixed = new Map<string, string>();
  if (opts.fix) {
    const attempt = async (c: Check) => {
      const f = await look(c);
      if (!f || f.status === 'ok' || !f.fixable || !c.fix) return;
      try {
        fixed.set(c.name, await c.fix.apply(scan));
      } catch (e) {
        fixed.set(c.name, `failed: ${e instanceof PyctlError && e.hint ? `${e.message} (${e.hint})` : (e as Error).message}`);
      }
      touched(c.fix.writes);
    };
    const touched = (writes: readonly Resource[]) => {
      scan.forget(writes);
      for (const c of CHECKS) if (c.reads.some((r) => writes.includes(r))) dirty.add(c.name);
    };
    const order = fixOrder();
    for (const c of order) if (c.fix?.beforeLock) await attempt(c);
    await withLock(
      ctx.home.paths.lock,
      'pyctl doctor --fix',
      async () => {
        for (const c of order) if (!c.fix?.beforeLock) await attempt(c);
      },
      { note: ctx.note },
    );
    // Looked at again after the lock is released (the lock check would see ours).
    for (const c of CHECKS) await look(c);
  }

  const out: DoctorResult[] = [];
  for (const c of CHECKS) {
    let f = found.get(c.name) ?? null;
    // A fix that removed its finding (leftovers, trash) still says what it did.
    if (!f && fixed.has(c.name)) f = { status: 'ok', message: 'none left', fix: null };
    if (f) out.push({ check: c.name, status: f.status, message: f.message, fix: f.fix, fixed: fixed.get(c.name) ?? null, fixable: !!(f.fixable && c.fix) });
  }
  return out;
}
