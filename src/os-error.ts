/**
 * Operating-system failures as one line each (issue 17, row 10): a closed pipe ends output
 * quietly (`pyctl history | head -1`), a full or failing output file is one `error:` line, and
 * any other errno error names the path and the errno instead of calling itself a bug.
 */
import { fsProblem } from './errors.js';

export interface ErrnoError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

export function isErrnoError(e: unknown): e is ErrnoError {
  const code = (e as { code?: unknown })?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** `cannot write /x/y: the disk is full (ENOSPC)`. */
export function osErrorLine(e: ErrnoError): string {
  const verb = e.syscall
    ? (({ open: 'open', write: 'write', read: 'read', mkdir: 'create', rename: 'rename', unlink: 'remove', rmdir: 'remove', link: 'link', copyfile: 'copy', fsync: 'flush' } as Record<string, string>)[
        e.syscall
      ] ?? e.syscall)
    : 'use';
  const where = e.path ? ` ${e.path}${e.dest ? ` to ${e.dest}` : ''}` : '';
  return `cannot ${verb}${where}: ${fsProblem(e)} (${e.code})`;
}

export function osErrorHint(e: ErrnoError): string {
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'free some space there (df -h shows how much is left), then run the command again';
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') return 'that path is not writable by you; check its owner and permissions, or point PYCTL_HOME elsewhere';
  return 'an error from the operating system, not from pyctl; fix the cause and run the command again';
}

/**
 * stdout/stderr errors: EPIPE (the reader went away) silences that stream for good; any other
 * write error on stdout (a full disk, /dev/full) is reported once on stderr and the exit status
 * becomes 1. The command itself carries on and finishes (never half a change because a pager quit).
 */
export function guardOutput(): void {
  let reported = false;
  const handler = (stream: NodeJS.WriteStream, name: string) => (e: Error) => {
    const code = (e as ErrnoError).code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return;
    if (stream === process.stdout && !reported) {
      reported = true;
      process.exitCode = 1;
      try {
        process.stderr.write(`error: cannot write the ${name}: ${fsProblem(e)} (${code ?? 'error'})\n`);
      } catch {
        // stderr is gone too
      }
    }
  };
  process.stdout.on('error', handler(process.stdout, 'output'));
  process.stderr.on('error', handler(process.stderr, 'messages'));
}
