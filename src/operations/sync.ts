/**
 * Drift: changes made outside pip-with-pyctl (uv, rm -rf, a hand-made commit, a crashed run).
 * Commands that change things commit it first as its own operation (`syncDrift`, as etckeeper
 * does); commands that only read (status, history, diff, list-snapshots) show it and write
 * nothing (`pendingDrift`): it is recorded by the next change or `pyctl sync` (issue 17).
 */
import { hostname } from 'node:os';
import { PyctlError } from '../errors.js';
import { recordDrift, lastOpNumber, type Recorded } from './record.js';
import { venvMoved } from './stamp.js';
import { readLastIfHead } from './last.js';
import { readLock, staleLockPresent, withLock, type LockHolder } from '../gitstore/lock.js';
import { readCrashMarker } from '../gitstore/recover.js';
import { readHeadOid } from '../gitstore/refs.js';
import { changeLine, diffSets, type Change } from '../plan/changes.js';
import { freezeText, readInstalled } from '../venv/freeze.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { deadJournals } from '../wheel/install-journal.js';
import { freezeAt } from './history.js';
import type { HomePaths } from '../paths.js';
import type { Context } from './context.js';

/**
 * Whether the venv may differ from HEAD's freeze.txt: site-packages changed since the last
 * record, or HEAD is not the commit pyctl last wrote (a hand-made commit edited freeze.txt).
 */
export function driftPossible(paths: HomePaths): boolean {
  return venvMoved(paths) || readLastIfHead(paths) === null;
}

export async function syncDrift(ctx: Context, opts: { readOnlyOk?: boolean } = {}): Promise<Recorded | null> {
  const { home } = ctx;
  // Also after a crash (a dead holder's lock, or its marker): that is where it gets recorded.
  if (!venvMoved(home.paths) && !readCrashMarker(home.paths) && !staleLockPresent(home.paths.lock)) return null;
  try {
    const rec = await withLock(home.paths.lock, 'record external change', () => recordDrift(home), { note: ctx.note });
    if (rec) ctx.note(driftNote(rec));
    return rec;
  } catch (e) {
    if (opts.readOnlyOk && e instanceof PyctlError && e.code === 'PERMISSION') return null;
    throw e;
  }
}

/** The note shown when outside changes (or what a crashed run left) were recorded. */
export function driftNote(rec: Recorded): string {
  if (rec.kind !== 'external') return `recorded a pip run whose own record had failed as operation ${rec.op}: ${rec.subject}`;
  return rec.subject.startsWith('interrupted ')
    ? `recorded what a crashed run left behind as operation ${rec.op}: ${rec.subject}`
    : `recorded changes made outside pip as operation ${rec.op} (external change)`;
}

export interface Pending {
  /** The venv against HEAD's freeze.txt. */
  changes: Change[];
  /** The newest recorded operation (null before any). */
  since: number | null;
  /** A run that died while changing the venv (its lock or crash marker). */
  crashed: LockHolder | null;
  /** A pip-less install that was killed half-way (its journal is still there). */
  halfInstalled: boolean;
}

/** What is not recorded yet, read without writing anything; null when the venv matches HEAD. */
export async function pendingDrift(ctx: Context): Promise<Pending | null> {
  const { home } = ctx;
  const { paths } = home;
  const marker = readCrashMarker(paths);
  const crashed = marker ?? (staleLockPresent(paths.lock) ? readLock(paths.lock) : null);
  const halfInstalled = deadJournals(paths.venv).length > 0;
  if (!crashed && !halfInstalled && !driftPossible(paths)) return null;
  const head = readHeadOid(paths.gitDir);
  let recorded = '';
  let since: number | null = null;
  try {
    recorded = head ? await freezeAt(home, head) : '';
    since = head ? await lastOpNumber(home, head) : null;
  } catch {
    // HEAD unreadable: `pyctl sync` (or doctor --fix) repairs it; show the whole venv as new.
  }
  let now: string;
  try {
    now = freezeText(readInstalled(paths.venv));
  } catch {
    return null; // no venv to compare: status and doctor say so
  }
  const changes = diffSets(parseFreeze(recorded), parseFreeze(now));
  if (!changes.length && !crashed && !halfInstalled) return null;
  return { changes, since: since !== null && since >= 0 ? since : null, crashed, halfInstalled };
}

/** "changed outside pip since operation 18: + foo 1.0; recorded by the next change or `pyctl sync`". */
export function pendingNote(p: Pending, system = false): string {
  const sync = system ? 'pyctl --system sync' : 'pyctl sync';
  const shown = p.changes.slice(0, 6).map(changeLine).join(', ') + (p.changes.length > 6 ? `, and ${p.changes.length - 6} more` : '');
  const late = p.crashed?.unrecorded;
  const what = late
    ? `a pip run whose record failed (${late.subject}${late.exit ? `, exit ${late.exit}` : ''}) left changes not recorded${shown ? `: ${shown}` : ''}`
    : p.crashed
      ? `a run that stopped half-way (pid ${p.crashed.pid}${p.crashed.host && p.crashed.host !== hostname() ? ` on host ${p.crashed.host}` : ''}${p.crashed.what ? `: ${p.crashed.what}` : ''}) left changes not recorded${shown ? `: ${shown}` : ''}`
      : p.halfInstalled
        ? `an install that stopped half-way left files behind${shown ? `: ${shown}` : ''}`
        : `changed outside pip since ${p.since !== null ? `operation ${p.since}` : 'the last record'}: ${shown}`;
  return `${what}; recorded by the next change or '${sync}'`;
}

/** For the commands that only read: say what is pending, on stderr. */
export async function notePending(ctx: Context): Promise<Pending | null> {
  const p = await pendingDrift(ctx);
  if (p) ctx.note(pendingNote(p, ctx.system));
  return p;
}
