/**
 * One lock per home, shared with the pip hook (hooks/pyctl_hook.py writes the same format:
 * "<pid> <host> <what>"). isomorphic-git has no lock of its own, so every writer takes this one.
 * A lock whose holder died is taken over; a waiting process says once what it waits for.
 */
import { openSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { PyctlError } from '../errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  what: string;
}

export function readLock(path: string): LockHolder | null {
  try {
    const [pid, host = '', ...what] = readFileSync(path, 'utf8').trim().split(/\s+/);
    return { pid: Number(pid), host, what: what.join(' ') };
  } catch {
    return null;
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

function tryTake(path: string, what: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    writeSync(fd, `${process.pid} ${hostname()} ${what}\n`);
    closeSync(fd);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT') {
      mkdirSync(dirname(path), { recursive: true });
      return tryTake(path, what);
    }
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      throw new PyctlError('PERMISSION', `cannot write to ${dirname(path)} (${code})`, 'this home belongs to another user, or is read-only');
    }
    throw e;
  }
}

/** Remove a dead holder's lock. Renaming first makes the take-over atomic between processes. */
export function clearStale(path: string): boolean {
  const h = readLock(path);
  if (!h || holderAlive(h)) return false;
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
    unlinkSync(aside);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run fn holding the lock. `heldBy`: a pid (the pip process that called us) whose lock we are
 * allowed to work under, since the hook holds it for the whole pip run.
 */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>, opts: { heldBy?: number; timeoutMs?: number; quiet?: boolean } = {}): Promise<T> {
  const current = readLock(path);
  if (opts.heldBy && current?.pid === opts.heldBy) return fn();
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  let told = false;
  while (!tryTake(path, what)) {
    if (clearStale(path)) continue;
    const h = readLock(path);
    if (Date.now() > deadline) {
      throw new PyctlError('LOCKED', `another pyctl or pip run (pid ${h?.pid}: ${h?.what}) still holds ${path}`, 'wait for it to finish, or run \'pyctl doctor --fix\' if it is stuck');
    }
    if (!told && h && !opts.quiet) {
      process.stderr.write(`pyctl: waiting for another change to this venv to finish (pid ${h.pid}: ${h.what})...\n`);
      told = true;
    }
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone (taken over after we were presumed dead): nothing to release.
    }
  }
}
