/**
 * pyctl bisect run|start|good|bad|skip|reset: which operation (and which of its package changes)
 * made a command start failing. Each state is built in a scratch venv beside the user's; the
 * user's venv, history and snapshots are never touched, and no lock is held (see session.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PyctlError, usage } from '../errors.js';
import type { Context, Output } from '../operations/context.js';
import type { Paint } from '../render/color.js';
import { shortDate } from '../render/time.js';
import { verdictOfExit, type Next, type Verdict } from '../bisect/plan.js';
import { createScratch, removeScratch, scratchPath, SESSION_ID } from '../bisect/scratch.js';
import { Bisector, changeText, dropSession, loadSession, prepare, saveSession, stateName, type Session, type StepLog } from '../bisect/session.js';
import { runTest } from '../bisect/run-test.js';

export interface BisectOptions {
  good?: string;
  bad?: string;
}

type End = Extract<Next, { kind: 'invalid' | 'ambiguous' | 'culprits' }>;

const stepLine = (b: Bisector, log: StepLog) => `${b.progress()}: ${log.what} ... ${log.verdict}${log.why ? ` (${log.why})` : ''}`;

export async function bisectRun(ctx: Context, cmd: string[], opts: BisectOptions): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  if (!cmd.length) throw usage('bisect run needs a command to run in each state', 'pyctl bisect run -- python -m pytest -x tests/test_io.py');
  if (loadSession(home)) throw new PyctlError('USAGE', 'a manual bisect is in progress', "finish it (pyctl bisect good|bad|skip) or end it with 'pyctl bisect reset'");
  const session = await prepare(home, opts.good, opts.bad, scratchPath(paths, process.pid));
  const b = new Bisector(home, session);

  // Ctrl-C or SIGTERM: stop the test command, then remove the scratch venv (finally below).
  let stopped: string | null = null;
  let child: ChildProcess | null = null;
  const stop = (sig: NodeJS.Signals) => () => {
    stopped ??= sig;
    child?.kill(sig);
  };
  const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, stop(s)]);
  for (const [s, h] of handlers) process.on(s, h);
  const interrupted = () => {
    if (stopped) throw new PyctlError('INTERRUPTED', `bisect interrupted (${stopped}); the scratch venv was removed and nothing of yours changed`, undefined, 130);
  };
  let end: End;
  try {
    ctx.note(`bisecting ${session.states.length - 1} operation(s) between ${stateName(session.states[0])} and ${stateName(session.states[session.states.length - 1])}, in ${session.scratch}`);
    const t0 = performance.now();
    await createScratch(paths, process.pid);
    if (ctx.verbose) ctx.note(`made the scratch venv in ${(performance.now() - t0).toFixed(0)} ms`);
    interrupted();
    for (;;) {
      const step = await b.next();
      if (step.kind !== 'state' && step.kind !== 'subset') {
        end = step as End;
        break;
      }
      const t1 = performance.now();
      const built = await b.prepareStep(step);
      if (ctx.verbose) ctx.note(`built ${b.describe(step, built.applied)} in ${(performance.now() - t1).toFixed(0)} ms`);
      interrupted();
      let verdict: Verdict;
      let why: string | undefined;
      if (!built.ok) {
        verdict = 'skip';
        why = built.why;
      } else {
        const r = await runTest(cmd, session.scratch, (c) => (child = c));
        // Ctrl-C reaches the test command too, which may end before our own handler has run:
        // a command that died of SIGINT (130 from a shell) means the same.
        if (r.signal === 'SIGINT' || r.code === 130) stopped ??= 'SIGINT';
        interrupted();
        if (r.error) throw new PyctlError('USAGE', `cannot run the test command: ${r.error}`, 'give the command after --, as you would run it in the venv');
        const v = verdictOfExit(r.code, r.signal);
        if (v === 'abort') {
          throw new PyctlError(
            'BISECT',
            `the test command ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`} in ${b.describe(step, built.applied)}: bisect stopped`,
            'exit 0 means good, 125 cannot test, 1-127 (not 125) bad; 128 and above stop the bisect, as in git bisect run',
          );
        }
        verdict = v;
        if (v === 'skip') why = 'the command exited with 125';
      }
      ctx.note(stepLine(b, b.record(step, verdict, built.applied, why)));
    }
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    removeScratch(session.scratch);
  }
  if (end.kind === 'invalid') throw invalid(b, end);
  return verdictOutput(b, end, ctx.paint, cmd);
}

function invalid(b: Bisector, end: Extract<Next, { kind: 'invalid' }>): PyctlError {
  const s = b.s;
  const bad = `the bad state (${s.bad}: ${stateName(s.states[s.states.length - 1])})`;
  const good = `the good state (${s.good}: ${stateName(s.states[0])})`;
  switch (end.why) {
    case 'bad-passes':
      return new PyctlError('BISECT', `${bad} passes: the command exits 0 there, so there is nothing to bisect`, 'check the command fails now, or give --bad a state where it fails');
    case 'bad-untestable':
      return new PyctlError('BISECT', `${bad} cannot be tested (${s.steps[0]?.why ?? 'the command exited with 125'})`, 'give --bad another state');
    case 'good-fails':
      return new PyctlError('BISECT', `${good} fails too: the command fails there as well, so this history does not say when it started`, 'give --good an older state where the command passes');
    default:
      return new PyctlError('BISECT', `${good} cannot be tested (${s.steps[1]?.why ?? 'the command exited with 125'})`, 'give --good another state');
  }
}

function verdictOutput(b: Bisector, end: Exclude<End, { kind: 'invalid' }>, p: Paint, cmd?: string[]): Output {
  const s = b.s;
  const steps = s.steps;
  const base = {
    good: { name: s.good, op: s.states[0].op, commit: s.states[0].commit },
    bad: { name: s.bad, op: s.states[s.states.length - 1].op, commit: s.states[s.states.length - 1].commit },
    ...(cmd ? { command: cmd } : {}),
    steps,
  };
  if (end.kind === 'ambiguous') {
    const ops = end.indexes.map((i) => s.states[i]);
    const text = `the first bad state is one of ${ops.map(stateName).join(', ')}: states between could not be tested (skipped)\n${ops.map((o) => `  ${String(o.op ?? '-').padStart(5)}  ${shortDate(o.time)}  ${o.subject}\n`).join('')}`;
    return { text, json: { ...base, result: 'ambiguous', candidates: ops.map((o) => ({ op: o.op, time: iso(o.time), subject: o.subject, commit: o.commit })) } };
  }
  const op = s.states[end.index];
  const prev = s.states[end.index - 1];
  const changes = s.changes ?? [];
  const culprits = end.changes.map((i) => changes[i]);
  const maybe = (end.ambiguous ?? []).map((i) => changes[i]);
  const others = changes.filter((c) => !culprits.includes(c) && !maybe.includes(c));
  const ref = (x: typeof op) => (x.op === null ? x.commit.slice(0, 12) : String(x.op));
  const lines = [
    `${p.bold(`first bad: ${stateName(op)}`)}, ${shortDate(op.time)}: ${op.subject}`,
    ...(culprits.length ? [`culprit${culprits.length > 1 ? 's' : ''}: ${culprits.map(changeText).join(', ')}`] : []),
    ...(maybe.length ? [`the culprit is one of: ${maybe.map(changeText).join(', ')} (the states between could not be built)`] : []),
    ...(others.length ? [p.dim(`also changed then, not needed to fail: ${others.map(changeText).join(', ')}`)] : []),
    `look closer: pyctl diff ${ref(op)}; go back: pyctl restore ${ref(prev)}`,
  ];
  const j = (c: (typeof changes)[number]) => ({ name: c.name, change: c.kind, from: 'from' in c ? c.from : null, to: 'to' in c ? c.to : null });
  return {
    text: lines.join('\n') + '\n',
    json: {
      ...base,
      result: 'found',
      operation: { op: op.op, time: iso(op.time), subject: op.subject, commit: op.commit },
      culprits: culprits.map(j),
      ...(maybe.length ? { possibleCulprits: maybe.map(j) } : {}),
      otherChanges: others.map(j),
      next: [`pyctl diff ${ref(op)}`, `pyctl restore ${ref(prev)}`],
    },
  };
}

const iso = (t: number) => new Date(t * 1000).toISOString();

// ---- Manual mode ----

export async function bisectStart(ctx: Context, opts: BisectOptions): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  if (loadSession(home)) throw new PyctlError('USAGE', 'a bisect is already in progress', "continue it (pyctl bisect good|bad|skip) or end it with 'pyctl bisect reset'");
  const session = await prepare(home, opts.good, opts.bad, scratchPath(paths, SESSION_ID));
  // You named the ends: they count as tested (as in git bisect start BAD GOOD).
  session.plan.verdicts = { 0: 'good', [session.states.length - 1]: 'bad' };
  // The session file first: its scratch venv is swept as abandoned without it.
  saveSession(home, session);
  try {
    await createScratch(paths, SESSION_ID);
  } catch (e) {
    dropSession(home);
    throw e;
  }
  ctx.note(`bisecting ${session.states.length - 1} operation(s) between ${stateName(session.states[0])} and ${stateName(session.states[session.states.length - 1])}`);
  return advance(ctx, new Bisector(home, session));
}

export async function bisectMark(ctx: Context, verdict: Verdict): Promise<Output> {
  const { home } = ctx;
  home.requireInitialized();
  const session = loadSession(home);
  if (!session) throw new PyctlError('USAGE', 'no bisect in progress', "start one with 'pyctl bisect start' (or script it: pyctl bisect run -- CMD)");
  if (!session.current) throw new PyctlError('USAGE', 'this bisect is finished', "end it with 'pyctl bisect reset'");
  if (!existsSync(session.scratch)) throw new PyctlError('STATE_CORRUPT', `the scratch venv ${session.scratch} is gone`, "end this bisect with 'pyctl bisect reset' and start again");
  const b = new Bisector(home, session);
  const step = session.current;
  ctx.note(stepLine(b, b.record(step, verdict, undefined)));
  return advance(ctx, b);
}

/** Build the next testable state (skipping what cannot be built), save, and say how to enter it; or the verdict. */
async function advance(ctx: Context, b: Bisector): Promise<Output> {
  for (;;) {
    const step = await b.next();
    if (step.kind !== 'state' && step.kind !== 'subset') {
      b.s.current = undefined;
      saveSession(ctx.home, b.s);
      if (step.kind === 'invalid') throw invalid(b, step);
      const out = verdictOutput(b, step as Exclude<End, { kind: 'invalid' }>, ctx.paint);
      return { ...out, text: `${out.text}${ctx.paint.dim('end the bisect (removes the scratch venv): pyctl bisect reset')}\n` };
    }
    const built = await b.prepareStep(step);
    if (!built.ok) {
      ctx.note(stepLine(b, b.record(step, 'skip', built.applied, built.why)));
      continue;
    }
    b.s.current = step;
    saveSession(ctx.home, b.s);
    const what = b.describe(step, built.applied);
    const text = [`testing: ${what}`, `  source ${b.s.scratch}/bin/activate`, `then, after trying it: pyctl bisect good | bad | skip   (pyctl bisect reset to stop)`].join('\n');
    return { text: text + '\n', json: { testing: what, scratch: b.s.scratch, activate: `source ${b.s.scratch}/bin/activate`, steps: b.s.steps } };
  }
}

export function bisectReset(ctx: Context): Output {
  const { home } = ctx;
  const session = loadSession(home);
  const scratch = session?.scratch ?? scratchPath(home.paths, SESSION_ID);
  removeScratch(scratch);
  dropSession(home);
  return { text: session ? `bisect ended; removed ${scratch}\n` : 'no bisect in progress\n', json: { ended: !!session, removed: session ? scratch : null } };
}

/** For `pyctl bisect` with no subcommand: the session's state. */
export function bisectSession(ctx: Context): Session | null {
  return loadSession(ctx.home);
}
