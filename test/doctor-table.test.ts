/** The doctor check table (pure): names, the fix order its `after` lists give, and what fixes make look again. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../src/doctor/checks/index.js';
import { fixOrder } from '../src/doctor/run.js';
import type { Check } from '../src/doctor/check.js';

const names = CHECKS.map((c) => c.name);

describe('doctor check table', () => {
  it('names each check once, and docs/doctor.md has a row for each', () => {
    expect(new Set(names).size).toBe(names.length);
    const doc = readFileSync(new URL('../docs/doctor.md', import.meta.url), 'utf8');
    for (const n of names) expect(doc, n).toContain(`| \`${n}\` |`);
  });

  it("every 'after' names a check in the table", () => {
    for (const c of CHECKS) for (const a of c.after ?? []) expect(names, `${c.name} after ${a}`).toContain(a);
  });

  it('fixes run after the checks their after lists name, otherwise in table order', () => {
    const order = fixOrder().map((c) => c.name);
    expect([...order].sort()).toEqual([...names].sort());
    for (const c of CHECKS) for (const a of c.after ?? []) expect(order.indexOf(a), `${a} before ${c.name}`).toBeLessThan(order.indexOf(c.name));
    expect(order.indexOf('state-repo')).toBeLessThan(order.indexOf('venv'));
    expect(order.indexOf('venv')).toBeLessThan(order.indexOf('hook'));
  });

  it('a cycle in after is refused, not looped on', () => {
    const a: Check = { name: 'a', reads: [], after: ['b'], run: async () => null };
    const b: Check = { name: 'b', reads: [], after: ['a'], run: async () => null };
    expect(() => fixOrder([a, b])).toThrow(/cycle/);
  });

  it('a check reads what its own fix writes, so it looks again after fixing', () => {
    for (const c of CHECKS)
      if (c.fix)
        expect(
          c.fix.writes.some((w) => c.reads.includes(w)),
          c.name,
        ).toBe(true);
  });

  it('only the lock is fixed before the lock is taken', () => {
    expect(CHECKS.filter((c) => c.fix?.beforeLock).map((c) => c.name)).toEqual(['lock']);
  });
});
