/**
 * The record lane: `pyctl _record` as the pip hook calls it (hooks/pyctl_hook.py), without
 * loading the command-line parser or the other commands. It runs on every pip run that changed
 * the venv, and skipping the full CLI module saves ~15-40 ms of each. The hook's call has one
 * fixed form; anything else returns false and the full CLI handles it.
 *
 *   _record --home H --phase pre|post [--pid N] [--sub S] [--exit C] [--report FILE] [--wait stdin --since MS] -- PIP_ARGS...
 *
 * `--sub` is pip's subcommand as the hook found it with pip's own option parser (`-`: none).
 * `--report` is pip's install report for this run (where each installed file came from).
 * `--wait stdin`: started with pip, not after it; pip's status comes as one line on stdin when
 * pip ends (commands/record.ts recordAfterPip); `--since`: when pip started (ms since the epoch).
 */
import { makeContext } from '../operations/context.js';
import { pipEnd, recordAfterPip, recordForHook } from '../commands/record.js';
import { terminalReporter } from '../render/progress.js';
import { setPauseSignal } from '../debug/faults.js';

const VALUED = new Set(['--home', '--phase', '--pid', '--sub', '--exit', '--report', '--wait', '--since']);

export async function recordLane(argv: string[]): Promise<boolean> {
  if (argv[0] !== '_record') return false;
  const opts: Record<string, string> = {};
  let i = 1;
  for (; i < argv.length && argv[i] !== '--'; i += 2) {
    const k = argv[i];
    if (!VALUED.has(k) || i + 1 >= argv.length || k in opts) return false;
    opts[k] = argv[i + 1];
  }
  if (argv[i] !== '--' || !opts['--home'] || !opts['--phase']) return false;
  const early = opts['--wait'] !== undefined;
  if (early && (opts['--wait'] !== 'stdin' || opts['--phase'] !== 'post' || opts['--exit'] !== undefined)) return false;
  // This lane prints: notes, progress and the test pause signal go to pip's stderr from here.
  setPauseSignal((line) => process.stderr.write(line));
  const note = (line: string) => void process.stderr.write(`pyctl: ${line}\n`);
  const ctx = () => makeContext({ home: opts['--home'] }, { note, reporter: terminalReporter({ stream: process.stderr }) });
  const raw = { pid: opts['--pid'], sub: opts['--sub'], report: opts['--report'], since: opts['--since'], args: argv.slice(i + 1) };
  const r = early ? await recordAfterPip(ctx, raw, pipEnd(process.stdin)) : await recordForHook(ctx, { ...raw, phase: opts['--phase'], exit: opts['--exit'] });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.exitCode) process.exitCode = r.exitCode;
  // Exit now: pip waits for this process, and Node would first wait for V8's background work
  // (compiling hot code for a run that is over: 30-250 ms). Everything is written and flushed.
  process.stderr.write('', () => process.exit());
  return true;
}
