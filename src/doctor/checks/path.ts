/** pip and python3 on PATH are the venv's (no automatic fix: the shell start-up block is). */
import { join } from 'node:path';
import { pathReport } from '../../venv/path-check.js';
import { filesWithBlock, tilde } from '../shell.js';
import type { Check } from '../check.js';

export const path: Check = {
  name: 'path',
  reads: ['venv', 'shell'],
  async run(scan) {
    const { venv } = scan.paths;
    const p = pathReport(venv);
    if (p.projectVenv) return { status: 'ok', message: `project venv ${p.projectVenv} is active (fine: deactivate to return to the user venv)`, fix: null };
    if (p.ours) return { status: 'ok', message: `pip and python3 are the user venv's (${join(venv, 'bin')})`, fix: null };
    const blocks = filesWithBlock();
    return {
      status: 'problem',
      message: `${join(venv, 'bin')} is not first on PATH: pip is ${p.pip ?? 'not found'}, python3 is ${p.python ?? 'not found'}`,
      fix: blocks.length ? `open a new shell (or source ${tilde(blocks[0])}): its PATH block puts the venv first` : 'add the PATH block (see shell-startup), then open a new shell',
    };
  },
};
