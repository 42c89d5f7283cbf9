/** The pip recording hook in the venv's site-packages, calling this pyctl and home. */
import { existsSync } from 'node:fs';
import { hookState, installHook } from '../../pip/hook.js';
import type { Check } from '../check.js';

export const hook: Check = {
  name: 'hook',
  reads: ['venv'],
  after: ['venv'], // a rebuilt venv gets its hook
  async run(scan) {
    if (!existsSync(scan.paths.venv) || scan.health().status !== 'ok') {
      return { status: 'warning', message: 'not checked: the venv is not usable', fix: 'installed with the rebuilt venv' };
    }
    const h = hookState(scan.paths);
    if (h === 'ok') return { status: 'ok', message: 'the pip recording hook is in place', fix: null };
    return {
      status: 'problem',
      message:
        h === 'missing' ? 'the pip recording hook is missing: pip runs are not recorded' : 'the pip recording hook is out of date (written by an older pyctl, or for another pyctl copy or home)',
      fix: 'reinstall the hook',
      fixable: true,
    };
  },
  fix: {
    writes: ['venv'],
    async apply(scan) {
      installHook(scan.paths);
      return 'reinstalled the pip recording hook';
    },
  },
};
