/**
 * `venv.old-*` beside a healthy venv: a finished rebuild or clean (delete them) or a half-built
 * one (put the old venv back). A broken venv with leftovers is the venv check's.
 */
import { rmSync } from 'node:fs';
import { putBackLeftover } from '../../venv/swap.js';
import type { Check } from '../check.js';

export const leftovers: Check = {
  name: 'leftovers',
  reads: ['venv', 'side-copies', 'repo'],
  after: ['state-repo', 'venv'],
  async run(scan) {
    const found = scan.leftovers();
    if (scan.health().status !== 'ok' || !found.length) return null;
    const restorable = scan.restorable();
    if (await scan.halfBuilt()) {
      return {
        status: 'problem',
        message: scan.unfinished()
          ? `an interrupted clean or rebuild left the previous venv at ${restorable}, and the venv has no ${scan.unfinished()} (half-built)`
          : `an interrupted rebuild left the previous venv at ${restorable}, and the venv does not match the recorded state (half-built?)`,
        fix: `put ${restorable} back (the half-built venv is deleted)`,
        fixable: true,
      };
    }
    const known = (await scan.recorded()) !== null;
    return {
      status: 'warning',
      message: `left by an interrupted rebuild or clean: ${found.join(', ')}`,
      fix: known ? 'delete them (the venv in use is healthy and matches the recorded state)' : null,
      fixable: known,
    };
  },
  fix: {
    writes: ['venv', 'side-copies'],
    async apply(scan) {
      const { venv } = scan.paths;
      if (await scan.halfBuilt()) {
        const restorable = scan.restorable()!;
        putBackLeftover(venv, restorable);
        return `put the previous venv back from ${restorable}; the half-built one is deleted`;
      }
      const found = scan.leftovers();
      for (const d of found) rmSync(d, { recursive: true, force: true });
      return `deleted ${found.length} leftover venv(s)`;
    },
  },
};
