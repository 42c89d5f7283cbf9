/**
 * pyctl unlock: clear a lock that is stuck (its holder is gone, or runs on another host pyctl
 * cannot see), saying what it clears. A holder still running on this machine is left alone.
 * Nothing else changes; a holder that was changing the venv leaves the crash marker, so the
 * next record (or `pyctl sync`) records what it left, marked interrupted.
 */
import { forceUnlock } from '../gitstore/lock.js';
import type { Context, Output } from '../operations/context.js';

export function unlock(ctx: Context): Output {
  const { paths } = ctx.home.requireInitialized();
  const h = forceUnlock(paths.lock);
  if (!h) return { text: 'no lock held: nothing to clear\n', json: { cleared: null } };
  const who = `pid ${h.pid}${h.host ? ` on host ${h.host}` : ''} (${h.what || 'unknown'})`;
  return { text: `cleared the lock of ${who}\n`, json: { cleared: { pid: h.pid, host: h.host, what: h.what } } };
}
