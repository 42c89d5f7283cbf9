/**
 * What a doctor check is: a name, what it looks at, `run` (find), and optionally `fix` (repair
 * what it found). Each check is one module in checks/; the table in checks/index.ts orders them.
 */
import type { Scan } from './scan.js';

export type Status = 'ok' | 'warning' | 'problem';

/**
 * What a check looks at, and what a fix changes: a fix makes the checks that read what it wrote
 * look again, and only those (the rest of the report stays as found).
 */
export type Resource = 'venv' | 'side-copies' | 'repo' | 'lock' | 'shell' | 'config' | 'wheelhouse';

export interface Finding {
  status: Status;
  message: string;
  /** What --fix does, or advice when nothing automatic helps; null when there is nothing to do. */
  fix: string | null;
  /** Whether this check's `fix` can repair this finding. */
  fixable?: boolean;
}

export interface Check {
  name: string;
  reads: readonly Resource[];
  /** Checks whose repairs must come before this one's (they change what this one finds). */
  after?: readonly string[];
  /** null: nothing to report (leftovers, trash and snapshots appear only when there are some). */
  run(scan: Scan): Promise<Finding | null>;
  fix?: {
    writes: readonly Resource[];
    /** Repair; returns what was done. Runs under the home's lock, but for `beforeLock` fixes. */
    apply(scan: Scan): Promise<string>;
    /** The lock's own fix: before the lock is taken. */
    beforeLock?: boolean;
  };
}

/** One line of the report; `--json` prints a list of these (the first four keys are stable). */
export interface CheckResult {
  check: string;
  status: Status;
  message: string;
  /** What --fix does (or, after --fix, would still do); null when nothing automatic helps. */
  fix: string | null;
  /** With --fix: what was done for this check, else null. */
  fixed: string | null;
}
