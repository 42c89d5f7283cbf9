/**
 * Old venvs 'pyctl clean' deletes in the background, left when the machine went down first, and
 * scratch venvs of a killed move to another Python. Never needed again (clean recorded its new
 * venv before trashing the old one; a scratch venv is never used): disk space only.
 */
import { sweepTrash, trashVenvs } from '../../venv/aside.js';
import type { Check } from '../check.js';

export const trash: Check = {
  name: 'trash',
  reads: ['side-copies'],
  async run(scan) {
    const found = trashVenvs(scan.paths.venv);
    if (!found.length) return null;
    return {
      status: 'warning',
      message: `'pyctl clean' or a move to another Python did not finish deleting ${found.length} old or scratch venv(s) (wasted disk space): ${found.join(', ')}`,
      fix: 'delete them (old venvs that pyctl clean replaced, scratch venvs of a move; the venv in use is not touched)',
      fixable: true,
    };
  },
  fix: {
    writes: ['side-copies'],
    apply: async (scan) => `deleted ${sweepTrash(scan.paths.venv).length} old venv(s)`,
  },
};
