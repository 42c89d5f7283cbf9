/** The home's lock: held by a live process (wait), or stale (its holder is gone: remove it). */
import { clearStale, holderAlive, readLock } from '../../gitstore/lock.js';
import type { Check } from '../check.js';

export const lock: Check = {
  name: 'lock',
  reads: ['lock'],
  async run(scan) {
    const { lock } = scan.paths;
    const holder = readLock(lock);
    if (!holder) return { status: 'ok', message: 'no lock held', fix: null };
    if (holderAlive(holder)) return { status: 'warning', message: `held by pid ${holder.pid} (${holder.what}), which is still running`, fix: null };
    return { status: 'problem', message: `stale lock ${lock}: its holder pid ${holder.pid} (${holder.what}) is gone`, fix: 'remove the stale lock', fixable: true };
  },
  fix: {
    writes: ['lock'],
    beforeLock: true,
    async apply(scan) {
      const { lock } = scan.paths;
      const holder = readLock(lock);
      return clearStale(lock) ? `removed the stale lock of pid ${holder?.pid}` : 'the lock was already released';
    },
  },
};
