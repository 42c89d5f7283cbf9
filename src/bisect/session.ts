/**
 * A bisect as data (what `bisect run` keeps in memory and manual mode in .git/pyctl/bisect.json):
 * the recorded states between good and bad, the planner's state, the first bad operation's
 * changes once known; and the steps that turn a planner step into a package set built in the
 * scratch venv. It only reads the history (no lock needed: commits are immutable, HEAD is read
 * once) and writes nothing but the scratch venv, the link store and, rarely, the wheelhouse.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { PyctlError } from '../errors.js';
import { writeAtomic } from '../fs/durable.js';
import { freezeAt, resolveState } from '../operations/history.js';
import type { Home } from '../operations/home.js';
import { diffSets, type Change, type PackageSet } from '../plan/changes.js';
import { reconcile } from '../reconcile/apply.js';
import { defaultPycCache } from '../venv/create.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { venvMarkerEnv } from '../deps/graph.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { wheelRequires } from '../wheelhouse/requires.js';
import { newBisect, nextStep, record, startChanges, stepsLeft, type BisectState, type Next, type Verdict } from './plan.js';
import { consistentSubset, dependencyOrder } from './subset.js';
import { sessionPath } from './session-file.js';

export interface StateRef {
  commit: string;
  op: number | null;
  time: number;
  subject: string;
}

export interface StepLog {
  step: number;
  what: string;
  op: number | null;
  /** For steps inside an operation: the changes applied (`lib 1.0 -> 2.0`). */
  changes?: string[];
  verdict: Verdict;
  /** Why a step was skipped without running the command (cannot be built). */
  why?: string;
}

export interface Session {
  version: 1;
  good: string;
  bad: string;
  states: StateRef[];
  plan: BisectState;
  /** The first bad operation's changes, in the order they are bisected. */
  changes?: Change[];
  scratch: string;
  /** Manual mode: the step under test. */
  current?: Next;
  steps: StepLog[];
}

export const stateName = (s: StateRef): string => (s.op === null ? `commit ${s.commit.slice(0, 12)}` : `operation ${s.op}`);

/** The states from good to bad along the history (oldest first); good defaults to the oldest recorded state. */
export async function prepare(home: Home, good: string | undefined, bad: string | undefined, scratch: string): Promise<Session> {
  const badState = await resolveState(home, bad ?? 'HEAD');
  const goodState = good === undefined ? undefined : await resolveState(home, good);
  const states: StateRef[] = [];
  let found = false;
  for await (const c of home.repo.walk(badState.commit)) {
    states.push({ commit: c.oid, op: c.parsed.meta?.op ?? null, time: c.time, subject: c.parsed.subject });
    if (goodState && c.oid === goodState.commit) {
      found = true;
      break;
    }
  }
  if (goodState && !found) {
    throw new PyctlError('USAGE', `the good state (${good}) is not before the bad state (${bad ?? 'now'}) in the history`, "give --good an older operation than --bad (see 'pyctl history')");
  }
  states.reverse();
  if (states.length < 2) throw new PyctlError('USAGE', `the good and the bad state are the same (${stateName(states[0])})`, "give --good an older state than --bad (see 'pyctl history')");
  return { version: 1, good: good ?? stateName(states[0]), bad: bad ?? 'now', states, plan: newBisect(states.length), scratch, steps: [] };
}

/** Human form of one change: `lib 1.0 -> 2.0`, `extra added 1.0`, `old removed 0.3`. */
export function changeText(c: Change): string {
  if (c.kind === 'added') return `${c.name} added ${c.to}`;
  if (c.kind === 'removed') return `${c.name} removed ${c.from}`;
  return `${c.name} ${c.from} -> ${c.to}`;
}

export class Bisector {
  private wheelhouse: Wheelhouse;
  private requires: ReturnType<typeof wheelRequires>;
  constructor(
    readonly home: Home,
    public s: Session,
  ) {
    this.wheelhouse = new Wheelhouse(home.paths.wheelhouse);
    this.requires = wheelRequires(this.wheelhouse);
  }

  /** The next thing to test, or the end; starts the search inside the first bad operation when it is found. */
  async next(): Promise<Next> {
    for (;;) {
      const n = nextStep(this.s.plan);
      if (n.kind !== 'found') return n;
      const before = parseFreeze(await freezeAt(this.home, this.s.states[n.index - 1].commit));
      const after = parseFreeze(await freezeAt(this.home, this.s.states[n.index].commit));
      const changes = dependencyOrder(diffSets(before, after), after, this.requires, venvMarkerEnv(this.home.paths.venv));
      this.s.changes = changes;
      this.s.plan = startChanges(this.s.plan, changes.length);
    }
  }

  /** The first bad state's index (while bisecting inside it). */
  private get firstBad(): number {
    const v = this.s.plan.verdicts;
    let bad = this.s.states.length - 1;
    for (const [i, x] of Object.entries(v)) if (x === 'bad' && Number(i) < bad) bad = Number(i);
    return bad;
  }

  /** `operation 17` or `operation 17 with lib 1.0 -> 2.0, util 1.0 -> 1.1`. */
  describe(step: Next, applied?: number[]): string {
    if (step.kind === 'state') return stateName(this.s.states[step.index]);
    if (step.kind !== 'subset') return step.kind;
    const op = stateName(this.s.states[this.firstBad]);
    const list = (applied ?? step.changes).map((i) => changeText(this.s.changes![i]));
    return `${op}, only ${list.length ? list.join(', ') : 'none of its changes'}`;
  }

  /** The package set a step stands for, or why it cannot be built. */
  async target(step: Next): Promise<{ freeze: string; applied?: number[] } | { why: string; applied?: number[] }> {
    if (step.kind === 'state') return { freeze: await freezeAt(this.home, this.s.states[step.index].commit) };
    if (step.kind !== 'subset') throw new Error(`no target for ${step.kind}`);
    const i = this.firstBad;
    const before = parseFreeze(await freezeAt(this.home, this.s.states[i - 1].commit));
    const after = parseFreeze(await freezeAt(this.home, this.s.states[i].commit));
    const sub = consistentSubset(before, after, this.s.changes!, step.changes, this.requires, venvMarkerEnv(this.home.paths.venv));
    if (sub.broken.length) return { why: `its requirements cannot be met with these changes alone (${sub.broken.join('; ')})`, applied: sub.applied };
    return { freeze: freezeOf(sub.set), applied: sub.applied };
  }

  /**
   * Make the scratch venv match a package set: the same transactional reconcile restore uses,
   * offline. Versions recorded as stored packages (recorded in the user's venv path) come as
   * wheels built from them (sources.ts), so scripts name the scratch venv's python; the store's
   * index is only read, its entries keep naming the user's venv.
   */
  async build(freeze: string): Promise<void> {
    await reconcile(freeze, {
      venv: this.s.scratch,
      wheelhouse: this.wheelhouse,
      store: this.home.paths.store,
      packages: this.home.paths.packages,
      storeReadOnly: true,
      pycCache: defaultPycCache(),
      offline: true,
      note: () => {},
    });
  }

  /** Build a step's state; a state that cannot be built is skipped (with why) rather than aborting. */
  async prepareStep(step: Next): Promise<{ ok: true; applied?: number[] } | { ok: false; why: string; applied?: number[] }> {
    const t = await this.target(step);
    if ('why' in t) return { ok: false, why: t.why, applied: t.applied };
    try {
      await this.build(t.freeze);
      return { ok: true, applied: t.applied };
    } catch (e) {
      if (e instanceof PyctlError && (e.code === 'MISSING_WHEEL' || e.code === 'RECONCILE_FAILED')) return { ok: false, why: `it cannot be built: ${e.message}`, applied: t.applied };
      throw e;
    }
  }

  record(step: Next, verdict: Verdict, applied?: number[], why?: string): StepLog {
    const log: StepLog = {
      step: this.s.steps.length + 1,
      what: this.describe(step, applied),
      op: step.kind === 'state' ? this.s.states[step.index].op : this.s.states[this.firstBad].op,
      ...(step.kind === 'subset' ? { changes: (applied ?? step.changes).map((i) => changeText(this.s.changes![i])) } : {}),
      verdict,
      ...(why ? { why } : {}),
    };
    this.s.steps.push(log);
    this.s.plan = record(this.s.plan, step, verdict);
    return log;
  }

  /** `step 3/8`: done so far plus an estimate of what is left. */
  progress(): string {
    const done = this.s.steps.length;
    return `step ${done}/${done + stepsLeft(this.s.plan)}`;
  }
}

function freezeOf(set: PackageSet): string {
  return [...set.values()]
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))
    .map((e) => `${e.line}\n`)
    .join('');
}

// ---- The manual session's file ----

export function loadSession(home: Home): Session | null {
  const path = sessionPath(home.paths);
  if (!existsSync(path)) return null;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Session;
    if (s.version !== 1 || !Array.isArray(s.states)) throw new Error('unknown format');
    return s;
  } catch (e) {
    throw new PyctlError('STATE_CORRUPT', `the bisect session ${path} cannot be read: ${(e as Error).message}`, "end it with 'pyctl bisect reset'");
  }
}

export function saveSession(home: Home, s: Session): void {
  writeAtomic(sessionPath(home.paths), JSON.stringify(s) + '\n');
}

export function dropSession(home: Home): void {
  rmSync(sessionPath(home.paths), { force: true });
}
