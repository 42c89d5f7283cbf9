/**
 * Pure: which state to test next, and the verdict. Two searches, both as plain data so manual
 * mode can keep them in a file between commands:
 *
 * - over states: index 0 is the good end, the last index the bad end, each step in between one
 *   recorded state. Both ends are tested first (a "good" that fails or a "bad" that passes means
 *   there is nothing to bisect); then the untested, unskipped state nearest the middle of the
 *   last good and the first bad, as `git bisect` does.
 * - inside the first bad operation, over its k package changes: the culprits are found one at a
 *   time by a binary search for the shortest failing prefix (changes 0..L-1, plus the culprits
 *   found so far), whose last change is then a culprit; when the culprits alone fail, they are
 *   the answer. One culprit among k changes costs about log2(k)+1 tests.
 */
export type Verdict = 'good' | 'bad' | 'skip';

export interface ChangeSearch {
  /** How many package changes the first bad operation made (in a fixed order). */
  k: number;
  /** Change indexes found so far. */
  culprits: number[];
  /** The prefix search: prefix `lo` (+ culprits) passes, prefix `hi` fails. */
  lo: number;
  hi: number;
  /** Prefix lengths that could not be tested in this round. */
  skipped: number[];
  /** Whether the culprits alone are being checked (after a new one was found). */
  checking: boolean;
  /** The culprits are known. */
  done: boolean;
  /** Set when untestable splits hid which of these changes is the culprit. */
  ambiguous?: number[];
}

export interface BisectState {
  /** Verdicts by state index; states.length = n. */
  n: number;
  verdicts: Record<number, Verdict>;
  /** Set once the first bad operation is known and it made several changes. */
  changes?: ChangeSearch;
}

export type Next =
  | { kind: 'state'; index: number }
  /** Test the state before the first bad operation plus these of its changes (`prefix`: which split it is). */
  | { kind: 'subset'; changes: number[]; prefix?: number }
  /** The verification of an end failed. */
  | { kind: 'invalid'; why: 'bad-passes' | 'good-fails' | 'bad-untestable' | 'good-untestable' }
  /** The first bad state is `index` (its operation is the culprit); `changes` needs starting. */
  | { kind: 'found'; index: number }
  /** Skipped states hide which one is first bad: one of these. */
  | { kind: 'ambiguous'; indexes: number[] }
  | { kind: 'culprits'; index: number; changes: number[]; ambiguous?: number[] };

export function newBisect(n: number): BisectState {
  if (n < 2) throw new Error('a bisect needs a good and a bad state');
  return { n, verdicts: {} };
}

/** The edges: the last good index and the first bad index above it. */
function edges(s: BisectState): { good: number; bad: number } {
  let good = 0;
  for (const [i, v] of Object.entries(s.verdicts)) if (v === 'good' && Number(i) > good) good = Number(i);
  let bad = s.n - 1;
  for (const [i, v] of Object.entries(s.verdicts)) if (v === 'bad' && Number(i) > good && Number(i) < bad) bad = Number(i);
  return { good, bad };
}

export function nextStep(s: BisectState): Next {
  const last = s.n - 1;
  const vBad = s.verdicts[last];
  if (vBad === undefined) return { kind: 'state', index: last };
  if (vBad === 'good') return { kind: 'invalid', why: 'bad-passes' };
  if (vBad === 'skip') return { kind: 'invalid', why: 'bad-untestable' };
  const vGood = s.verdicts[0];
  if (vGood === undefined) return { kind: 'state', index: 0 };
  if (vGood === 'bad') return { kind: 'invalid', why: 'good-fails' };
  if (vGood === 'skip') return { kind: 'invalid', why: 'good-untestable' };
  const { good, bad } = edges(s);
  const open: number[] = [];
  for (let i = good + 1; i < bad; i++) if (s.verdicts[i] === undefined) open.push(i);
  if (open.length) {
    const mid = (good + bad) / 2;
    open.sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid) || a - b);
    return { kind: 'state', index: open[0] };
  }
  if (bad - good > 1) {
    const indexes: number[] = [];
    for (let i = good + 1; i <= bad; i++) indexes.push(i);
    return { kind: 'ambiguous', indexes };
  }
  if (!s.changes) return { kind: 'found', index: bad };
  return changeStep(s.changes, bad);
}

/** Start the search inside the first bad operation (k = how many packages it changed). */
export function startChanges(s: BisectState, k: number): BisectState {
  const done = k <= 1;
  return { ...s, changes: { k, culprits: k === 1 ? [0] : [], lo: 0, hi: k, skipped: [], checking: false, done } };
}

const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

/** The culprits found so far plus changes 0..L-1. */
export function subsetFor(c: ChangeSearch, L: number): number[] {
  return sorted([...c.culprits, ...Array.from({ length: L }, (_, i) => i)]);
}

function changeStep(c: ChangeSearch, index: number): Next {
  if (c.done) return { kind: 'culprits', index, changes: sorted(c.culprits), ...(c.ambiguous ? { ambiguous: c.ambiguous } : {}) };
  if (c.checking) return { kind: 'subset', changes: sorted(c.culprits) };
  const mid = (c.lo + c.hi) / 2;
  const open: number[] = [];
  for (let L = c.lo + 1; L < c.hi; L++) if (!c.skipped.includes(L)) open.push(L);
  open.sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid) || a - b);
  return { kind: 'subset', changes: subsetFor(c, open[0]), prefix: open[0] };
}

/** Record the verdict of what nextStep asked for. */
export function record(s: BisectState, step: Next, v: Verdict): BisectState {
  if (step.kind === 'state') return { ...s, verdicts: { ...s.verdicts, [step.index]: v } };
  if (step.kind !== 'subset' || !s.changes) throw new Error(`nothing to record for a ${step.kind} step`);
  const c = s.changes;
  if (c.checking) {
    // The culprits alone failing are the answer; otherwise another one hides among the
    // changes before the newest culprit (searched with the culprits applied).
    if (v === 'bad') return { ...s, changes: { ...c, checking: false, done: true } };
    return { ...s, changes: settle({ ...c, checking: false, lo: 0, hi: Math.max(...c.culprits), skipped: [] }) };
  }
  const L = step.prefix!;
  const next = v === 'skip' ? { ...c, skipped: [...c.skipped, L] } : v === 'good' ? { ...c, lo: L } : { ...c, hi: L };
  return { ...s, changes: settle(next) };
}

/** Narrowed to one change: it is a culprit (check the culprits alone next); or every split is untestable. */
function settle(c: ChangeSearch): ChangeSearch {
  if (c.hi - c.lo > 1) {
    for (let L = c.lo + 1; L < c.hi; L++) if (!c.skipped.includes(L)) return c;
    // Every split in between was untestable: the culprit is one of lo..hi-1.
    return { ...c, done: true, ambiguous: Array.from({ length: c.hi - c.lo }, (_, i) => c.lo + i) };
  }
  const found = c.hi - 1;
  const culprits = sorted([...c.culprits, found]);
  // With change 0 the culprits are the failing prefix itself: nothing left to check.
  if (found === 0) return { ...c, culprits, done: true };
  return { ...c, culprits, checking: true, skipped: [] };
}

/** About how many more tests a bisect needs (for `step 3/8`). */
export function stepsLeft(s: BisectState): number {
  const log2 = (x: number) => (x <= 1 ? 0 : Math.ceil(Math.log2(x)));
  let left = (s.verdicts[s.n - 1] === undefined ? 1 : 0) + (s.verdicts[0] === undefined ? 1 : 0);
  const { good, bad } = edges(s);
  let open = 0;
  for (let i = good + 1; i < bad; i++) if (s.verdicts[i] === undefined) open++;
  left += log2(open + 1);
  const c = s.changes;
  if (c && !c.done) left += (c.checking ? 1 : 0) + log2(c.hi - c.lo) + 1;
  return left;
}

/** A test command's exit as `git bisect run` reads it: 0 good, 125 skip, 1-127 bad, anything else aborts. */
export function verdictOfExit(code: number | null, signal: string | null): Verdict | 'abort' {
  if (signal || code === null) return 'abort';
  if (code === 0) return 'good';
  if (code === 125) return 'skip';
  if (code >= 1 && code <= 127) return 'bad';
  return 'abort';
}
