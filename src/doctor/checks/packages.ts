/**
 * Do the installed packages fit the venv's Python (doctor/fit.ts)? The fix reinstalls each named
 * package through undo's path (a build for this Python from the wheelhouse or the index, or
 * nothing changes) and deletes stray extension modules built for another Python.
 */
import { reconcile } from '../../reconcile/apply.js';
import { venvInterpreter } from '../../reconcile/sources.js';
import { defaultPycCache } from '../../venv/create.js';
import { readFreeze } from '../../venv/freeze.js';
import { Wheelhouse } from '../../wheelhouse/wheelhouse.js';
import type { Check } from '../check.js';
import { findMisfits, misfitLine, removeStrays, type Misfit } from '../fit.js';
import type { Scan } from '../scan.js';

function misfits(scan: Scan): Misfit[] | null {
  if (scan.health().status !== 'ok') return null;
  return findMisfits(scan.paths.venv, venvInterpreter(scan.paths.venv, defaultPycCache()));
}

export const packages: Check = {
  name: 'packages',
  reads: ['venv'],
  after: ['venv', 'leftovers', 'drift'], // judge the venv that stays, once its state is recorded
  async run(scan) {
    let found: Misfit[] | null;
    try {
      found = misfits(scan);
    } catch (e) {
      return { status: 'warning', message: `not checked: ${(e as Error).message}`, fix: null };
    }
    if (found === null) return { status: 'warning', message: 'not checked: the venv is not usable', fix: null };
    if (!found.length) return { status: 'ok', message: "every installed package fits the venv's Python and has its files", fix: null };
    const dists = found.filter((m) => m.dist).length;
    const strays = found.length - dists;
    return {
      status: 'problem',
      message: `${found.length} package(s) or file(s) do not fit or are damaged: ${found.slice(0, 5).map(misfitLine).join('; ')}${found.length > 5 ? `; … (${found.length})` : ''}`,
      fix: [
        dists ? `reinstall ${dists} package(s) at the same version, built for this Python (from the wheelhouse or your index; if one cannot be had, nothing changes)` : '',
        strays ? `delete ${strays} stray extension module(s) no package lists` : '',
      ]
        .filter(Boolean)
        .join('; '),
      fixable: true,
    };
  },
  fix: {
    writes: ['venv'],
    async apply(scan) {
      const { ctx, paths } = scan;
      const found = misfits(scan) ?? [];
      const keys = new Set(found.flatMap((m) => (m.dist ? [m.dist.key] : [])));
      const done: string[] = [];
      if (keys.size) {
        await reconcile(readFreeze(paths.venv), {
          venv: paths.venv,
          wheelhouse: new Wheelhouse(paths.wheelhouse),
          note: ctx.note,
          verbose: ctx.verbose,
          store: paths.store,
          // A stored package is linked back only when its WHEEL tags fit and its files are intact.
          packages: paths.packages,
          pycCache: defaultPycCache(),
          reinstall: keys,
        });
        done.push(`reinstalled ${[...keys].join(', ')} built for this Python`);
      }
      const gone = removeStrays(found);
      if (gone.length) done.push(`deleted ${gone.join(', ')}`);
      return done.join('; ');
    },
  },
};
