/**
 * Old venvs 'pyctl clean' deletes in the background, left when the machine went down first.
 * Never needed again (clean recorded its new venv before trashing the old one): disk space only.
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
      message: `'pyctl clean' did not finish deleting ${found.length} old venv(s) (wasted disk space): ${found.join(', ')}`,
      fix: 'delete them (old venvs that pyctl clean replaced; the venv in use is not touched)',
      fixable: true,
    };
  },
  fix: {
    writes: ['side-copies'],
    apply: async (scan) => `deleted ${sweepTrash(scan.paths.venv).length} old venv(s)`,
  },
};
