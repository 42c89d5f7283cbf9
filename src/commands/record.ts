/**
 * pyctl _record: called by the pip hook (hooks/pyctl_hook.py) before pip runs (phase "pre": record
 * what changed outside pip on its own) and after (phase "post": record what pip changed). A
 * mutating pip run's post record is started with pip (`--wait stdin`): it keeps packages in the
 * store while pip runs (operations/keep-early.ts) and records when the hook writes pip's status.
 * It must never break pip: every failure is one line on stderr and exit status 0. It prints nothing
 * itself: notes go through ctx.note, and what pip's stderr shows comes back to the lane (or cli.ts).
 */
import { recordDrift, recordState } from '../operations/record.js';
import { afterPipNote } from '../render/changes.js';
import { namedPackages, pipQuiet } from '../pip/args.js';
import { paint, useColor } from '../render/color.js';
import { noteUnrecorded, withLock } from '../gitstore/lock.js';
import { maskSecrets } from '../sharing/mask.js';
import type { OpKind } from '../gitstore/message.js';
import { PyctlError } from '../errors.js';
import { CONFIG_FIX, DEFAULTS, type Config } from '../config/config.js';
import { isErrnoError, osErrorLine } from '../os-error.js';
import { readTextOr } from '../fs/read-text.js';
import { originsFromReport } from '../provenance/origins.js';
import type { Context } from '../operations/context.js';
import { silentReporter } from '../render/progress.js';
import { EarlyKeeper } from '../operations/keep-early.js';
import { flushOwed, settleFirstInit } from '../operations/first-flush.js';

export interface RecordOptions {
  phase: 'pre' | 'post';
  pid?: number;
  exit?: number;
  /** pip's --report JSON for this run: where each installed file came from. */
  report?: string;
  args: string[];
  /** pip's subcommand as the hook found it with pip's own parser (older hooks do not say). */
  sub?: string;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * The subject and kind of a recorded pip run. `sub` is pip's subcommand as the hook read it with
 * pip's own option parser; without it (a hook from an older pyctl) the first word that is not an
 * option, which misreads the value of an option such as `--log FILE` given before the subcommand.
 */
export function pipSubject(args: string[], sub?: string): { subject: string; kind: OpKind } {
  const name = sub === undefined ? args.find((a) => !a.startsWith('-')) : sub === '-' ? undefined : sub;
  const kind: OpKind = name === 'install' ? 'install' : name === 'uninstall' ? 'uninstall' : 'pip';
  return { subject: ['pip', ...args].map(quote).join(' '), kind };
}

/** What the hook's call shows on pip's stderr, and its exit status (3: not recorded, the hook leaves its lock). */
export interface HookOutcome {
  stderr: string;
  exitCode: number;
}

/** Record a pip run; returns the after-pip summary for pip's stderr ('' when none). */
export async function record(ctx: Context, opts: RecordOptions): Promise<string> {
  const { home } = ctx;
  if (!home.repo.exists()) return '';
  // Ctrl-C goes to pip's whole process group: finish the record, pip exits afterwards.
  process.on('SIGINT', () => {});
  let summary = '';
  await withLock(
    home.paths.lock,
    `record pip ${pipSubject(opts.args, opts.sub).kind}`,
    async () => {
      if (opts.phase === 'pre') {
        const drift = await recordDrift(home);
        if (drift && ctx.verbose) ctx.note(`git: committed outside changes as operation ${drift.op} (external change)`);
        return;
      }
      const { subject, kind } = pipSubject(opts.args, opts.sub);
      const failed = opts.exit !== undefined && opts.exit !== 0;
      const origins = opts.report ? originsFromReport(readTextOr(opts.report) ?? '') : undefined;
      // pip -q/-qq: no progress line either.
      const reporter = pipQuiet(opts.args) ? silentReporter : ctx.reporter;
      const rec = await recordState(home, { subject, kind, exit: opts.exit, status: failed ? 'failed' : undefined, origins, reporter, note: ctx.verbose ? ctx.note : undefined });
      if (rec && ctx.verbose) ctx.note(`git: committed freeze.txt as ${rec.oid.slice(0, 12)} (operation ${rec.op}, kind ${kind})`);
      const config = hookConfig(ctx, !pipQuiet(opts.args));
      // pip -q/-qq: the user asked for quiet, pyctl's summary included.
      if (rec && config.history.show_diff_after_install && !pipQuiet(opts.args)) {
        summary = afterPipNote(rec.op, rec.changes, paint(useColor(process.stderr, config.ui.color)), { system: home.system, named: namedPackages(opts.args) });
      }
    },
    { heldBy: opts.pid, note: ctx.note },
  );
  return summary;
}

/**
 * The config as a recorded pip run reads it: a broken config.toml must not stop the record nor
 * pip. It is said in one line on pip's stderr, with the message every command gives (the
 * defaults are used); unknown keys are warned about as every command does (not under pip -q).
 */
function hookConfig(ctx: Context, warn: boolean): Config {
  try {
    const config = ctx.home.config;
    if (warn) for (const w of ctx.home.configWarnings) ctx.note(`warning: ${w}`);
    return config;
  } catch (e) {
    ctx.note(`error: ${(e as Error).message} (recorded anyway, with the default settings; ${CONFIG_FIX})`);
    return DEFAULTS;
  }
}

/**
 * What the pip hook's call does, from either entry (the record lane or the full CLI): record,
 * and never fail pip because of pyctl: any failure is one line on stderr, and pip's status stands.
 */
export async function recordForHook(ctx: () => Context, raw: { phase?: string; pid?: string; sub?: string; exit?: string; report?: string; args: string[] }): Promise<HookOutcome> {
  const pid = raw.pid ? Number(raw.pid) : undefined;
  const exit = raw.exit !== undefined ? Number(raw.exit) : undefined;
  let context: Context | undefined;
  try {
    context = ctx();
    const stderr = await record(context, { phase: raw.phase === 'pre' ? 'pre' : 'post', pid, sub: raw.sub, exit, report: raw.report, args: raw.args });
    return { stderr, exitCode: 0 };
  } catch (e) {
    const why = isErrnoError(e) ? osErrorLine(e) : (e as Error).message;
    const hint = e instanceof PyctlError && e.hint ? ` (${e.hint})` : '';
    const post = raw.phase !== 'pre';
    // The lock stays (status 3 below) and says what this record would have written, so the next
    // taker records the change as this pip run, marked failed if pip failed (issue 17, row 14).
    const failed = exit !== undefined && exit !== 0;
    const run = pipSubject(raw.args, raw.sub);
    const noted = post && pid !== undefined && context !== undefined && noteUnrecorded(context.home.paths.lock, pid, { subject: maskSecrets(run.subject), kind: run.kind, exit });
    const later = noted
      ? `; the next pyctl command or pip run records it as this pip run${failed ? ', marked failed' : ''}`
      : post
        ? '; the next pyctl command or pip run records it, marked interrupted'
        : '';
    const stderr = `pyctl: this pip run was not recorded: ${why}${hint}${later}\n`;
    // 3 tells the hook to leave its lock: the next taker records this run's change under its name.
    return { stderr, exitCode: post ? 3 : 0 };
  }
}

/**
 * What the hook writes on an early record's stdin when pip ends: pip's exit status (`-`: none
 * known) when the venv may have changed, `skip` when it did not; nothing (end of file) when pip
 * died before it could say.
 */
export type PipEnd = { exit?: string } | 'skip' | null;

/** The hook's line, as `recordAfterPip` reads it. */
export function parsePipEnd(line: string | null): PipEnd {
  const w = line?.trim();
  if (w === undefined || w === '') return null;
  if (w === 'skip') return 'skip';
  return /^-?\d+$/.test(w) ? { exit: w } : { exit: undefined };
}

/** The hook's one line on `input` (the printer's stdin), once pip has ended; null at end of file without one (pip died). */
export function pipEnd(input: NodeJS.ReadableStream): Promise<PipEnd> {
  return new Promise((done) => {
    let text = '';
    const finish = () => {
      input.removeAllListeners('data');
      input.pause();
      const nl = text.indexOf('\n');
      done(parsePipEnd(nl >= 0 ? text.slice(0, nl) : null));
    };
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) finish();
    });
    input.on('end', finish);
    input.on('error', finish);
  });
}

/**
 * The post record started with pip: keep what pip finishes in the store while it runs, then
 * record as `recordForHook` does once pip has ended. pip killed (no line) or nothing changed:
 * nothing is recorded (the next command finds a killed run's change, marked interrupted).
 */
export async function recordAfterPip(ctx: () => Context, raw: { pid?: string; sub?: string; report?: string; since?: string; args: string[] }, ended: Promise<PipEnd>): Promise<HookOutcome> {
  // Ctrl-C goes to pip's whole process group: pip ends and says so, this process records it.
  process.on('SIGINT', () => {});
  let context: Context | undefined;
  let keeper: EarlyKeeper | undefined;
  let paying: Promise<unknown> | undefined;
  try {
    context = ctx();
    if (raw.pid && raw.since) {
      keeper = new EarlyKeeper(context.home, Number(raw.pid), Number(raw.since), raw.report);
      keeper.start();
    }
    // The first pip run after an init pays its owed flush while pip works (under pip's lock);
    // the record after pip does it, or records operation 0 again, if this could not.
    if (flushOwed(context.home.paths)) paying = settleFirstInit(context.home, null).catch(() => null);
  } catch {
    // recordForHook below meets the same failure and says it
  }
  const end = await ended;
  await paying;
  // What pyctl adds after pip's end, for --verbose: the last packages' links, then the record.
  // process.uptime(), not performance.now(): that loads perf_hooks in every record (operations/record.ts).
  const now = () => process.uptime() * 1000;
  const t0 = now();
  if (end !== null && end !== 'skip' && (end.exit === undefined || end.exit === '0')) keeper?.finish();
  else keeper?.stop();
  try {
    if (end === null || end === 'skip') return { stderr: '', exitCode: 0 };
    if (end.exit !== undefined && end.exit !== '0') keeper?.discard();
    const t1 = now();
    if (context?.verbose) for (const n of keeper?.notes ?? []) context.note(n);
    const out = await recordForHook(() => context ?? ctx(), { phase: 'post', pid: raw.pid, sub: raw.sub, exit: end.exit, report: raw.report, args: raw.args });
    if (context?.verbose) {
      const cpu = process.cpuUsage();
      const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
      context.note(
        `after pip ended: ${ms(t0, now())} (its last packages kept in ${ms(t0, t1)}, the record ${ms(t1, now())}); this process: ${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU since it started with pip`,
      );
    }
    return out;
  } finally {
    keeper?.done();
  }
}
