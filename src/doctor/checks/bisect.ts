/**
 * Scratch venvs of a `pyctl bisect` that was killed (SIGKILL, a crash) before it removed them.
 * Every other command sweeps them first; doctor reports them, so you see where the space went.
 * A running or manual bisect's own scratch venv is `ok`.
 */
import { abandoned, scratchVenvs, sweepScratch } from '../../bisect/sweep.js';
import type { Check } from '../check.js';

export const bisect: Check = {
  name: 'bisect',
  reads: ['side-copies'],
  async run(scan) {
    const all = scratchVenvs(scan.paths);
    if (!all.length) return null;
    const gone = all.filter((d) => abandoned(scan.paths, d));
    if (!gone.length) return { status: 'ok', message: `a bisect is in progress in ${all.join(', ')} ('pyctl bisect reset' ends a manual one)`, fix: null };
    return {
      status: 'warning',
      message: `a killed 'pyctl bisect' left ${gone.length} scratch venv(s): ${gone.join(', ')}`,
      fix: 'delete them (scratch copies; your venv is not touched)',
      fixable: true,
    };
  },
  fix: {
    writes: ['side-copies'],
    apply: async (scan) => `deleted ${sweepScratch(scan.paths).length} scratch venv(s)`,
  },
};
