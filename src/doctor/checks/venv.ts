/** The venv and its base Python, from files alone; the fix puts a leftover back or rebuilds it. */
import { rebuildReport, rebuildVenv } from '../../operations/rebuild-venv.js';
import { putBackLeftover } from '../../venv/swap.js';
import type { Check } from '../check.js';

export const venv: Check = {
  name: 'venv',
  reads: ['venv', 'side-copies'],
  after: ['state-repo'], // a rebuild reinstalls the recorded set
  async run(scan) {
    const health = scan.health();
    const { venv } = scan.paths;
    if (health.status === 'ok') return { status: 'ok', message: `${venv} runs Python ${health.version} (base ${health.base})`, fix: null };
    const restorable = scan.restorable();
    if (restorable) {
      return {
        status: 'problem',
        message: `${health.problem}; an interrupted rebuild or clean left the previous venv at ${restorable}`,
        fix: `put ${restorable} back`,
        fixable: true,
      };
    }
    const { python, why } = scan.python();
    return {
      status: 'problem',
      message: `the venv is ${health.status}: ${health.problem}${python ? '' : ` (no Python to rebuild it with: ${why})`}`,
      fix: python
        ? `build a new venv with ${python} and bring every recorded package across (a build for that Python from the wheelhouse or your index), or change nothing; the old one is kept until the new one works`
        : null,
      fixable: !!python,
    };
  },
  fix: {
    writes: ['venv', 'side-copies', 'repo'],
    async apply(scan) {
      const { venv } = scan.paths;
      const restorable = scan.restorable();
      if (restorable) {
        putBackLeftover(venv, restorable);
        return `put the previous venv back from ${restorable}`;
      }
      const { ctx } = scan;
      const r = await rebuildVenv(ctx.home, { python: scan.python().python!, subject: rebuildSubject, note: ctx.note, verbose: ctx.verbose, dropMissing: scan.opts.dropMissing });
      const head = `rebuilt the venv on Python ${r.to}${r.from && r.from !== r.to ? ` (was ${r.from})` : ''} in ${(r.ms / 1000).toFixed(1)} s: ${r.reinstalled} package(s) reinstalled${r.op !== null ? `, recorded as operation ${r.op}` : ''}`;
      return [head, ...rebuildReport(r)].join('\n');
    },
  },
};

function rebuildSubject(from: string | undefined, to: string): string {
  return `pyctl doctor --fix: rebuilt the venv on Python ${to}${from && from !== to ? ` (was ${from})` : ''}`;
}
