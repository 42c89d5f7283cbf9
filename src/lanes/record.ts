/**
 * The record lane: `pyctl _record` as the pip hook calls it (hooks/pyctl_hook.py), without
 * loading the command-line parser or the other commands. It runs on every pip run that changed
 * the venv, and skipping the full CLI module saves ~15-40 ms of each. The hook's call has one
 * fixed form; anything else returns false and the full CLI handles it.
 *
 *   _record --home H --phase pre|post [--pid N] [--sub S] [--exit C] [--report FILE] -- PIP_ARGS...
 *
 * `--sub` is pip's subcommand as the hook found it with pip's own option parser (`-`: none).
 * `--report` is pip's install report for this run (where each installed file came from).
 */
import { makeContext } from '../operations/context.js';
import { recordForHook } from '../commands/record.js';
import { terminalReporter } from '../render/progress.js';
import { setPauseSignal } from '../debug/faults.js';

const VALUED = new Set(['--home', '--phase', '--pid', '--sub', '--exit', '--report']);

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
  // This lane prints: notes, progress and the test pause signal go to pip's stderr from here.
  setPauseSignal((line) => process.stderr.write(line));
  const note = (line: string) => void process.stderr.write(`pyctl: ${line}\n`);
  const r = await recordForHook(() => makeContext({ home: opts['--home'] }, { note, reporter: terminalReporter({ stream: process.stderr }) }), {
    phase: opts['--phase'],
    pid: opts['--pid'],
    sub: opts['--sub'],
    exit: opts['--exit'],
    report: opts['--report'],
    args: argv.slice(i + 1),
  });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.exitCode) process.exitCode = r.exitCode;
  return true;
}
