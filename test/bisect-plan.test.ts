/** Pure: the bisect planner, driven against made-up histories (which state is bad, which change breaks it). */
import { describe, expect, it } from 'vitest';
import { diffSets, type PackageSet } from '../src/plan/changes.js';
import { parseRequirement, type MarkerEnv } from '../src/packaging/pep508.js';
import { consistentSubset, dependencyOrder, satisfies } from '../src/bisect/subset.js';
import { newBisect, nextStep, record, startChanges, stepsLeft, verdictOfExit, type Next, type Verdict } from '../src/bisect/plan.js';

/** Run a whole bisect: states 0..n-1, `state(i)` and `subset(changes)` the test's verdicts, k changes in the first bad op. */
function simulate(n: number, state: (i: number) => Verdict, k = 1, subset: (c: number[]) => Verdict = () => 'good') {
  let s = newBisect(n);
  const tested: string[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const step: Next = nextStep(s);
    if (step.kind === 'found') {
      s = startChanges(s, k);
      continue;
    }
    if (step.kind === 'state') {
      tested.push(`s${step.index}`);
      s = record(s, step, state(step.index));
    } else if (step.kind === 'subset') {
      tested.push(`[${step.changes.join(',')}]`);
      s = record(s, step, subset(step.changes));
    } else return { end: step, tested };
  }
  throw new Error('no verdict after 100 steps');
}

const firstBad =
  (f: number) =>
  (i: number): Verdict =>
    i >= f ? 'bad' : 'good';

describe('bisect over states', () => {
  it.each([
    [2, 1],
    [3, 1],
    [3, 2],
    [10, 7],
    [65, 1],
    [65, 33],
    [65, 64],
    [17, 9],
  ])('n=%i states, first bad %i: found within log2(n)+2 tests', (n, f) => {
    const r = simulate(n, firstBad(f));
    expect(r.end).toEqual({ kind: 'culprits', index: f, changes: [0] });
    expect(r.tested.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n - 1)) + 2);
    expect(r.tested.slice(0, 2)).toEqual([`s${n - 1}`, 's0']); // both ends first
  });

  it('64 operations take exactly log2(64)+2 state tests', () => {
    expect(simulate(65, firstBad(40)).tested).toHaveLength(8);
  });

  const cases: [string, (i: number) => Verdict][] = [
    ['bad-passes', () => 'good'],
    ['good-fails', () => 'bad'],
    ['bad-untestable', () => 'skip'],
    ['good-untestable', (i) => (i === 0 ? 'skip' : 'bad')],
  ];
  it.each(cases)('%s is reported before any bisecting', (why, f) => {
    const r = simulate(9, f);
    expect(r.end).toEqual({ kind: 'invalid', why });
    expect(r.tested.length).toBeLessThanOrEqual(2);
  });

  it('a skipped state (125) is stepped around', () => {
    const r = simulate(9, (i) => (i === 4 ? 'skip' : firstBad(6)(i)));
    expect(r.end).toMatchObject({ kind: 'culprits', index: 6 });
    expect(r.tested).toContain('s4');
  });

  it('skips next to the first bad state leave it ambiguous', () => {
    const r = simulate(9, (i) => (i === 5 || i === 6 ? 'skip' : firstBad(6)(i)));
    expect(r.end).toEqual({ kind: 'ambiguous', indexes: [5, 6, 7] });
  });

  it('estimates the steps left', () => {
    expect(stepsLeft(newBisect(65))).toBe(8);
    const s = record(record(newBisect(65), { kind: 'state', index: 64 }, 'bad'), { kind: 'state', index: 0 }, 'good');
    expect(stepsLeft(s)).toBe(6);
  });
});

describe('bisect inside the first bad operation', () => {
  const breaksWith =
    (...needed: number[]) =>
    (c: number[]): Verdict =>
      needed.every((x) => c.includes(x)) ? 'bad' : 'good';

  it.each([
    [3, [1]],
    [3, [0]],
    [3, [2]],
    [8, [5]],
    [16, [0]],
    [16, [15]],
    [8, [2, 6]],
    [8, [0, 7]],
    [5, [1, 2, 3]],
  ])('%i changes, culprits %j', (k, culprits) => {
    const r = simulate(5, firstBad(3), k, breaksWith(...culprits));
    expect(r.end).toEqual({ kind: 'culprits', index: 3, changes: culprits });
    const subsets = r.tested.filter((t) => t.startsWith('['));
    if (culprits.length === 1) expect(subsets.length).toBeLessThanOrEqual(Math.ceil(Math.log2(k)) + 1);
  });

  it('an operation of one change names it without a subset test', () => {
    const r = simulate(4, firstBad(2), 1);
    expect(r.end).toEqual({ kind: 'culprits', index: 2, changes: [0] });
    expect(r.tested.every((t) => t.startsWith('s'))).toBe(true);
  });

  it('subsets that cannot be built are stepped around, or named as ambiguous', () => {
    // Change 4 breaks it; the split after change 2 (changes 0-2) cannot be built.
    const split3 = (c: number[]) => c.join() === '0,1,2';
    let r = simulate(3, firstBad(1), 6, (c) => (split3(c) ? 'skip' : breaksWith(4)(c)));
    expect(r.end).toEqual({ kind: 'culprits', index: 1, changes: [4] });
    // Change 2 breaks it and that split is the only one between 2 and 3: one of them.
    r = simulate(3, firstBad(1), 6, (c) => (split3(c) ? 'skip' : breaksWith(2)(c)));
    expect(r.end).toEqual({ kind: 'culprits', index: 1, changes: [], ambiguous: [2, 3] });
    // Nothing between can be built: one of all four.
    r = simulate(3, firstBad(1), 4, () => 'skip');
    expect(r.end).toEqual({ kind: 'culprits', index: 1, changes: [], ambiguous: [0, 1, 2, 3] });
  });
});

describe('verdictOfExit (as git bisect run)', () => {
  it.each([
    [0, null, 'good'],
    [1, null, 'bad'],
    [2, null, 'bad'],
    [124, null, 'bad'],
    [125, null, 'skip'],
    [126, null, 'bad'],
    [127, null, 'bad'],
    [128, null, 'abort'],
    [130, null, 'abort'],
    [255, null, 'abort'],
    [null, 'SIGINT', 'abort'],
    [null, 'SIGKILL', 'abort'],
  ])('exit %j signal %j -> %s', (code, signal, want) => {
    expect(verdictOfExit(code, signal)).toBe(want);
  });
});

describe('subsets of an operation with pins kept consistent', () => {
  const set = (...pins: string[]): PackageSet =>
    new Map(
      pins.map((p) => {
        const [name, version] = p.split('==');
        return [name, { name, version, line: p }];
      }),
    );
  const reqs: Record<string, string[]> = { 'lib==2.0': ['util>=1.1'], 'app==2.0': ['lib<3', 'win; sys_platform == "win32"'], 'old==1.0': ['util<1.1'] };
  const requiresOf = (n: string, v: string) => (reqs[`${n}==${v}`] ?? []).map((r) => parseRequirement(r));
  const env = {
    sys_platform: 'linux',
    python_version: '3.11',
    python_full_version: '3.11.7',
    os_name: 'posix',
    platform_system: 'Linux',
    platform_machine: 'x86_64',
    implementation_name: 'cpython',
    platform_python_implementation: 'CPython',
    extra: '',
  } as MarkerEnv;
  const before = set('util==1.0', 'lib==1.0', 'old==1.0');
  const after = set('util==1.1', 'lib==2.0', 'extra==1.0');
  const changes = diffSets(before, after); // extra, lib, old, util (by key)

  it.each([
    ['satisfies', '1.1', '>=1.1', true],
    ['satisfies', '1.0', '>=1.1', false],
    ['satisfies', '2.5', '(>=2,<3)', true],
    ['satisfies', '3.0', '>=2,<3', false],
    ['satisfies', '1.4.2', '==1.4.*', true],
    ['satisfies', '1.0', '', true],
    ['satisfies', '1.0', '@ https://x/y.whl', true],
  ])('%s(%s, %j) = %s', (_, v, spec, want) => {
    expect(satisfies(v, spec)).toBe(want);
  });

  it('orders what a change needs before it', () => {
    expect(dependencyOrder(changes, after, requiresOf, env).map((c) => c.key)).toEqual(['extra', 'util', 'lib', 'old']);
  });

  it('brings along the change a chosen one needs, and the change of a package the subset would break', () => {
    const i = (k: string) => changes.findIndex((c) => c.key === k);
    // lib 2.0 needs util>=1.1: util's upgrade comes along; old 1.0 needs util<1.1: its removal comes along.
    const sub = consistentSubset(before, after, changes, [i('lib')], requiresOf, env);
    expect(sub.broken).toEqual([]);
    expect(sub.applied.map((x) => changes[x].key).sort()).toEqual(['lib', 'old', 'util']);
    expect([...sub.set.keys()].sort()).toEqual(['lib', 'util']);
    expect(consistentSubset(before, after, changes, [i('extra')], requiresOf, env)).toMatchObject({ applied: [i('extra')], broken: [] });
  });

  it("names what cannot be met by the operation's own changes", () => {
    const b2 = set('util==1.0', 'app==1.0', 'lib==1.0');
    const a2 = set('util==1.0', 'app==2.0', 'lib==3.0');
    const ch = diffSets(b2, a2); // app, lib
    // app 2.0 needs lib<3; the only lib change is to 3.0 (broken in the end state too: not the subset's doing).
    expect(consistentSubset(b2, a2, ch, [0], requiresOf, env).broken).toEqual([]);
    const b3 = set('util==1.0', 'lib==1.0');
    const a3 = set('util==1.2', 'lib==2.0', 'pin==1.0');
    reqs['pin==1.0'] = ['util==1.2'];
    const ch3 = diffSets(b3, a3); // lib, pin, util
    const sub = consistentSubset(b3, a3, ch3, [1], requiresOf, env); // pin alone pulls util 1.2
    expect(sub.applied).toEqual([1, 2]);
  });
});
