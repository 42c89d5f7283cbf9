/** Every failure a user can meet is a PyctlError: a stable code, one line of message, one hint. */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_INITIALIZED'
  | 'NO_PYTHON'
  | 'VENV_BROKEN'
  | 'CONFIG_INVALID'
  | 'STATE_CORRUPT'
  | 'UNKNOWN_OPERATION'
  | 'UNKNOWN_SNAPSHOT'
  | 'NOT_A_SNAPSHOT'
  | 'BAD_SNAPSHOT_NAME'
  | 'SNAPSHOT_EXISTS'
  | 'NOTHING_TO_UNDO'
  | 'NOTHING_TO_REDO'
  | 'RECONCILE_FAILED'
  | 'LOCKED'
  | 'PERMISSION'
  | 'PIP_FAILED'
  | 'REMOTE'
  | 'NOT_INSTALLED'
  | 'MISSING_WHEEL'
  | 'BAD_REQUIREMENTS'
  | 'BAD_LOCK'
  | 'HASH_MISMATCH'
  | 'HOME_EXISTS'
  | 'UNKNOWN_PACKAGE'
  | 'BISECT'
  | 'INTERRUPTED'
  | 'INTERNAL';

export class PyctlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    /** 2 = wrong usage, 1 = anything else (see docs/commands.md). */
    readonly exitCode: number = code === 'USAGE' || code === 'BAD_SNAPSHOT_NAME' ? 2 : 1,
  ) {
    super(message);
    this.name = 'PyctlError';
  }
}

export const usage = (message: string, hint?: string) => new PyctlError('USAGE', message, hint);

/** Parse a positive whole number given on the command line, or throw a usage error naming it. */
export function positiveInt(raw: string, what: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw usage(`${what} must be a whole number of 1 or more, not '${raw}'`);
  }
  return Number(raw);
}

/** An operation number given on the command line (0 is init). */
export function nonNegativeInt(raw: string, what: string): number {
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw))) throw usage(`${what} takes an operation number (see pyctl history), not '${raw}'`);
  return Number(raw);
}

/** A file system error in words (`no such file`), not its code (`ENOENT`). */
export function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a folder, not a file',
    ENOTDIR: 'a part of the path is not a folder',
    ENOSPC: 'the disk is full',
    EROFS: 'the file system is read-only',
    EEXIST: 'it already exists',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the name is too long',
    EMFILE: 'too many open files',
    EIO: 'an input/output error (a failing disk?)',
  };
  return (code && words[code]) ?? (e as Error)?.message ?? String(e);
}
