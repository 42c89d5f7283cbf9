/**
 * One lock per home, shared with the pip hook (hooks/pyctl_hook.py follows the same protocol
 * and format: "<pid> <host> <what>", and for a pip run whose record failed a second line saying
 * what that record would have written, `noteUnrecorded`). isomorphic-git has no lock of its own, so every writer
 * takes this one. See docs/safety.md.
 *
 * - Taking it: the content is written to a private temp file, then hard-linked to the lock
 *   path (link fails if the lock exists), so a lock file is never seen half-written.
 * - A lock whose holder died (same host, no such pid) is taken over. Only the holder of the
 *   short-lived `<lock>.takeover` guard may remove a dead holder's lock, so two waiters can
 *   never remove each other's fresh locks. A dead holder that was changing the venv (a pip run,
 *   pyctl undo/redo/restore/clean/autoremove/init, doctor --fix) leaves its lock line behind as the crash marker
 *   (`interrupted` beside the lock): the next record of the venv is marked interrupted.
 * - `_record` works under its pip's lock (`heldBy`) and says so in `<lock>.helper`, so its
 *   lock is not taken over while it still writes, even if pip itself was killed.
 * - A waiting process says once what it waits for, through the note its caller passes (this
 *   module never prints).
 */
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { PyctlError } from '../errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  what: string;
  /** A pip run whose own record failed (a full disk): what that record would have written. */
  unrecorded?: UnrecordedRun;
}

/** The operation a failed record of a pip run would have made, so the next taker makes it. */
export interface UnrecordedRun {
  subject: string;
  kind: string;
  /** pip's exit status. */
  exit?: number;
}

/** The lock line `<pid> <host> <what>`, then optionally one JSON line: the run's unrecorded operation. */
export function readLock(path: string): LockHolder | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const [first, second] = text.split('\n');
  const [pid, host = '', ...what] = first.trim().split(/\s+/);
  const h: LockHolder = { pid: Number(pid), host, what: what.join(' ') };
  const run = unrecordedRun(second);
  if (run) h.unrecorded = run;
  return h;
}

function unrecordedRun(line: string | undefined): UnrecordedRun | undefined {
  if (!line?.trim()) return undefined;
  try {
    const r = (JSON.parse(line) as { unrecorded?: Partial<UnrecordedRun> }).unrecorded;
    if (!r || typeof r.subject !== 'string' || typeof r.kind !== 'string') return undefined;
    return { subject: r.subject, kind: r.kind, ...(Number.isInteger(r.exit) ? { exit: r.exit } : {}) };
  } catch {
    return undefined; // cut short by a full disk: the run counts as interrupted
  }
}

/**
 * A pip run's record failed (a full disk): say in its lock, which stays behind, what the record
 * would have written, so the next taker records the change as that run. Written in place after
 * the lock line, inside the block the file already holds: a full disk has no room for a new
 * file, but has for these bytes. Best effort: false when it could not be written.
 */
export function noteUnrecorded(path: string, pid: number, run: UnrecordedRun): boolean {
  const h = readLock(path);
  if (!h || h.pid !== pid || h.host !== hostname() || h.unrecorded) return false;
  const line = `${JSON.stringify({ unrecorded: { ...run, subject: run.subject.slice(0, 300) } })}\n`;
  try {
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, line, fstatSync(fd).size);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname() || !Number.isInteger(h.pid) || h.pid <= 0) return true; // can't tell: assume alive
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The crash marker: the lock line of a holder that died while changing the venv. */
export const crashMarkerPath = (lock: string) => join(dirname(lock), 'interrupted');
const guardPath = (lock: string) => `${lock}.takeover`;
const helperPath = (lock: string) => `${lock}.helper`;

/** Whether a dead holder with this `what` may have left the venv half changed. */
export function changesVenv(what: string): boolean {
  return /^pip\b/.test(what) || /^pyctl (undo|redo|restore|clean|autoremove|init|doctor --fix)\b/.test(what);
}

let seq = 0;
/** Create `path` holding `line`, atomically and only if it does not exist. */
function createExclusive(path: string, line: string): boolean {
  const tmp = `${path}.new-${process.pid}-${++seq}`;
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      // Not fsync'd: a power cut ends every holder, and a lock emptied by one is taken over as
      // unreadable after 10 s (lockIsStale). Flushing would cost every pip run a disk round trip.
      writeSync(fd, line);
    } catch (e) {
      closeSync(fd);
      try {
        unlinkSync(tmp); // a full disk leaves no temp file behind
      } catch {
        // gone
      }
      throw e;
    }
    closeSync(fd);
    try {
      linkSync(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (isDirectory(path)) {
        throw new PyctlError('STATE_CORRUPT', `the lock ${path} is a directory, not a file`, "remove it (rmdir), or run 'pyctl doctor --fix'");
      }
      return false;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      mkdirSync(dirname(path), { recursive: true });
      return createExclusive(path, line);
    }
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR') {
      throw new PyctlError('PERMISSION', `cannot take the lock ${path} (${code})`, 'this home belongs to another user, or is read-only');
    }
    throw e;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const holderLine = (what: string) => `${process.pid} ${hostname()} ${what}\n`;

/** Dead, or unreadable for over 10 s (a lock file written by something else, half-written). */
function lockIsStale(path: string, h: LockHolder | null): boolean {
  if (h && Number.isInteger(h.pid) && h.pid > 0 && h.host) {
    if (holderAlive(h)) return false;
    const helper = readLock(helperPath(path));
    return !helper || !holderAlive(helper);
  }
  try {
    return Date.now() - statSync(path).mtimeMs > 10_000;
  } catch {
    return false;
  }
}

/**
 * Remove a dead holder's lock (under the takeover guard). Returns the dead holder, or null when
 * the lock is not stale or someone else is taking it over.
 */
export function takeOverStale(path: string): LockHolder | null {
  const seen = readLock(path);
  if (!lockIsStale(path, seen)) return null;
  const guard = guardPath(path);
  if (!createExclusive(guard, holderLine('takeover'))) {
    // Someone is taking over; if they died doing it (a window of microseconds), clear the guard.
    const g = readLock(guard);
    if (g && !holderAlive(g)) {
      try {
        unlinkSync(guard);
      } catch {
        // someone else cleared it
      }
    }
    return null;
  }
  try {
    const h = readLock(path);
    if (!lockIsStale(path, h)) return null;
    try {
      if (h && changesVenv(h.what)) renameSync(path, crashMarkerPath(path));
      else unlinkSync(path);
    } catch {
      return null;
    }
    try {
      unlinkSync(helperPath(path));
    } catch {
      // none
    }
    return h ?? { pid: 0, host: '', what: '' };
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      // gone
    }
  }
}

/** Whether a lock is left by a holder that is gone (so the next taker will find a crash). */
export function staleLockPresent(path: string): boolean {
  const h = readLock(path);
  return h !== null && lockIsStale(path, h);
}

/** Kept for callers that only need a yes/no. */
export function clearStale(path: string): boolean {
  return takeOverStale(path) !== null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a writer waits for the lock: 10 minutes, or PYCTL_LOCK_TIMEOUT seconds (the pip hook reads the same). */
export function lockWaitMs(): number {
  const s = Number(process.env.PYCTL_LOCK_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 10 * 60_000;
}

const where = (h: LockHolder | null) => (h ? `pid ${h.pid}${h.host && h.host !== hostname() ? ` on host ${h.host}` : ''}: ${h.what || 'unknown'}` : 'unknown holder');

/**
 * `pyctl unlock` and doctor --fix: remove a lock whose holder pyctl cannot see (another host)
 * or that is gone, after the caller has said what it removes. A holder alive on this machine is
 * never removed. One that was changing the venv leaves the crash marker, so the next record is
 * marked interrupted. Returns the holder removed, or null when there was no lock.
 */
export function forceUnlock(path: string): LockHolder | null {
  const h = readLock(path);
  if (!h) {
    if (!isDirectory(path)) return null;
    throw new PyctlError('STATE_CORRUPT', `the lock ${path} is a directory, not a file`, 'remove it (rmdir)');
  }
  if (h.host === hostname() && Number.isInteger(h.pid) && h.pid > 0 && holderAlive(h)) {
    throw new PyctlError('LOCKED', `the lock is held by ${where(h)}, which is still running on this machine`, 'wait for it to finish, or stop that process first');
  }
  if (changesVenv(h.what)) renameSync(path, crashMarkerPath(path));
  else unlinkSync(path);
  try {
    unlinkSync(helperPath(path));
  } catch {
    // none
  }
  return h;
}

export interface LockOptions {
  /** Where "waiting for another change" and "took over the lock" go (the caller's ctx.note); none: quiet. */
  note?: (line: string) => void;
  /** A pid (the pip process that called us) whose lock we may work under: the hook holds it for the whole pip run. */
  heldBy?: number;
  timeoutMs?: number;
}

/**
 * Work under the lock `pid` (a pip run) holds, when it does: say so in `<lock>.helper`, so that
 * pip dying does not free the lock while this process still writes. Returns the release (a
 * no-op when the helper file was already there, e.g. this process's own early record took it,
 * or the home is read-only), or null when `pid` does not hold the lock.
 */
export function helpHolder(path: string, pid: number): (() => void) | null {
  const current = readLock(path);
  if (current?.pid !== pid || current.host !== hostname()) return null;
  const helper = helperPath(path);
  let mine = false;
  try {
    mine = createExclusive(helper, holderLine(`record for pip ${pid}`));
  } catch {
    // read-only: carry on under pip's lock
  }
  return () => {
    if (!mine) return;
    mine = false;
    try {
      unlinkSync(helper);
    } catch {
      // gone
    }
  };
}

/** Run fn holding the lock. */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = opts.heldBy ? helpHolder(path, opts.heldBy) : null;
  if (release) {
    try {
      return await fn();
    } finally {
      release();
    }
  }
  const deadline = Date.now() + (opts.timeoutMs ?? lockWaitMs());
  let told = false;
  while (!createExclusive(path, holderLine(what))) {
    const dead = takeOverStale(path);
    if (dead) {
      opts.note?.(`took over the lock of pid ${dead.pid}${dead.what ? ` (${dead.what})` : ''}, which is gone`);
      continue;
    }
    const h = readLock(path);
    if (Date.now() > deadline) {
      throw new PyctlError('LOCKED', `another pyctl or pip run (${where(h)}) still holds ${path}`, "wait for it to finish; if nothing runs there any more, 'pyctl unlock' clears it");
    }
    if (!told && h && opts.note) {
      opts.note(`waiting for another change to this venv to finish (${where(h)})...`);
      told = true;
    }
    await sleep(30 + Math.random() * 40);
  }
  try {
    return await fn();
  } finally {
    // Release only our own lock (it may have been taken over if we were presumed dead).
    if (readLock(path)?.pid === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }
}
