/**
 * pyctl clean [--keep-baseline]: delete and recreate the venv (history and snapshots kept),
 * recorded as an operation. The old venv is moved aside, not deleted, until the new one is
 * recorded, so a failure puts it back as it was.
 */
import { PyctlError } from '../errors.js';
import { freezeAt } from '../operations/history.js';
import { installHook } from '../pip/hook.js';
import { sweepTrash } from '../venv/aside.js';
import { moveAside, type Swap } from '../venv/swap.js';
import { createVenv } from '../venv/create.js';
import { seedWheelhouse } from '../wheelhouse/wheelhouse.js';
import { interpreterOf, readPyvenvCfg } from '../venv/pyvenv.js';
import { changeState } from '../operations/change.js';
import type { Context, Output } from '../operations/context.js';
import { BASELINE } from '../operations/first-flush.js';
import { testFail, testPause } from '../debug/faults.js';

export async function clean(ctx: Context, opts: { keepBaseline?: boolean; dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  const python = interpreterOf(readPyvenvCfg(paths.venv)) ?? 'python3';
  if (opts.dryRun) {
    const tag = opts.keepBaseline ? await home.repo.readTag(BASELINE) : null;
    if (opts.keepBaseline && !tag) throw noBaseline();
    return {
      text: `pyctl clean would delete ${paths.venv} and create it anew with ${python}${tag ? `, then restore snapshot '${BASELINE}'` : ''}.\n(dry run: nothing changed)\n`,
      json: { dryRun: true, venv: paths.venv, python, keepBaseline: !!tag },
    };
  }
  let swap: Swap | undefined;
  return changeState(ctx, {
    kind: 'clean',
    async resolve() {
      const subject = opts.keepBaseline ? `pyctl clean --keep-baseline` : 'pyctl clean';
      if (!opts.keepBaseline) return { freeze: null, subject, target: 'empty' };
      const tag = await home.repo.readTag(BASELINE);
      if (!tag) throw noBaseline();
      return { freeze: await freezeAt(home, tag.commit), subject, target: BASELINE };
    },
    async before() {
      sweepTrash(paths.venv);
      swap = moveAside(paths.venv);
      const { wheels, seededFrom } = await createVenv(paths.venv, python, { store: paths.store, wheelhouse: paths.wheelhouse });
      await testPause('clean'); // the new venv made, its hook not yet: the moment issue 17 row 2 found
      testFail('clean', paths.venv); // a full disk writing the hook
      seedWheelhouse(paths.wheelhouse, wheels, !seededFrom);
      installHook(paths);
    },
    undoBefore() {
      swap?.putBack();
    },
    finish() {
      // Answer now; the old venv (possibly thousands of files) is deleted in the background.
      swap?.commit({ background: true });
    },
  });
}

function noBaseline(): PyctlError {
  return new PyctlError('UNKNOWN_SNAPSHOT', `there is no '${BASELINE}' snapshot to keep`, `save one with 'pyctl snapshot ${BASELINE}', or run 'pyctl clean' without --keep-baseline`);
}
