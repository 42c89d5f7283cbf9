/**
 * The home's lock: held by a live process (wait), stale (its holder is gone: remove it), or
 * naming a pid on another host, which pyctl cannot check (pip would wait until the deadline):
 * --fix clears it after saying whose it was, as `pyctl unlock` does.
 */
import { hostname } from 'node:os';
import { clearStale, forceUnlock, holderAlive, readLock } from '../../gitstore/lock.js';
import type { Check } from '../check.js';

export const lock: Check = {
  name: 'lock',
  reads: ['lock'],
  async run(scan) {
    const { lock } = scan.paths;
    const holder = readLock(lock);
    if (!holder) return { status: 'ok', message: 'no lock held', fix: null };
    if (holder.host && holder.host !== hostname()) {
      return {
        status: 'problem',
        message: `${lock} is held by pid ${holder.pid} on host ${holder.host} (${holder.what}), which pyctl cannot check from here`,
        fix: `clear the lock of pid ${holder.pid} on host ${holder.host} (only if nothing runs there any more)`,
        fixable: true,
      };
    }
    if (holderAlive(holder)) return { status: 'warning', message: `held by pid ${holder.pid} (${holder.what}), which is still running`, fix: null };
    return { status: 'problem', message: `stale lock ${lock}: its holder pid ${holder.pid} (${holder.what}) is gone`, fix: 'remove the stale lock', fixable: true };
  },
  fix: {
    writes: ['lock'],
    beforeLock: true,
    async apply(scan) {
      const { lock } = scan.paths;
      const holder = readLock(lock);
      if (holder?.host && holder.host !== hostname()) {
        const h = forceUnlock(lock);
        return h ? `cleared the lock of pid ${h.pid} on host ${h.host} (${h.what})` : 'the lock was already released';
      }
      return clearStale(lock) ? `removed the stale lock of pid ${holder?.pid}` : 'the lock was already released';
    },
  },
};
