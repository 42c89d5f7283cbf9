/** pyctl init: the venv, the recording hook, the state repo, operation 0 and the baseline tag. */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { DEFAULT_CONFIG_TEXT } from '../config/config.js';
import { recordState } from '../ledger/record.js';
import { hookState, installHook } from '../pip/hook.js';
import { writeAtomic } from '../state/files.js';
import { withLock } from '../state/lock.js';
import { createVenv, findPython } from '../venv/create.js';
import { seedWheelhouse } from '../wheelhouse/wheelhouse.js';
import { venvPythonVersion } from '../venv/freeze.js';
import type { Context, Output } from './context.js';

export const BASELINE = 'baseline';

export async function init(ctx: Context, opts: { python?: string }): Promise<Output> {
  const { home } = ctx;
  const { paths, repo } = home;
  if (home.initialized() && (await repo.headOid())) {
    // A reinstall from another place (or another node) must point the hook at the new program.
    if (hookState(paths) !== 'ok') {
      installHook(paths);
      return { text: `pyctl is already set up in ${paths.home}; refreshed the pip hook to this pyctl.\n`, json: { home: paths.home, venv: paths.venv, created: false, hookRefreshed: true } };
    }
    return {
      text: `pyctl is already set up in ${paths.home}; nothing changed.\n`,
      json: { home: paths.home, venv: paths.venv, created: false },
    };
  }
  mkdirSync(paths.home, { recursive: true });
  if (!existsSync(paths.config)) writeAtomic(paths.config, DEFAULT_CONFIG_TEXT);
  void home.config; // a broken config.toml stops here, before anything else is made
  const python = findPython(opts.python);
  if (!existsSync(paths.venv)) {
    // Made in place (a venv's scripts name their own path); a failure removes the half-made one.
    ctx.note(`creating ${paths.venv} with ${python}`);
    try {
      const { wheels } = await createVenv(paths.venv, python);
      seedWheelhouse(paths.wheelhouse, wheels);
    } catch (e) {
      rmSync(paths.venv, { recursive: true, force: true });
      throw e;
    }
  }
  if (!repo.exists()) await repo.init();
  mkdirSync(paths.runtime, { recursive: true });
  installHook(paths);
  const version = venvPythonVersion(paths.venv);
  const rec = await withLock(paths.lock, 'pyctl init', () =>
    recordState(home, { subject: `pyctl init (Python ${version})`, kind: 'init' }),
  );
  const head = await repo.headOid();
  let baseline = false;
  if (home.config.snapshots.auto_baseline && head && !(await repo.readTag(BASELINE))) {
    await repo.tag(BASELINE, head, 'The state right after pyctl init');
    baseline = true;
  }
  const lines = [
    `pyctl is set up in ${paths.home}`,
    `  venv:    ${paths.venv} (Python ${version})`,
    `  history: ${rec ? `operation ${rec.op} recorded` : 'kept'}${baseline ? `, snapshot '${BASELINE}' made` : ''}`,
    `Put ${paths.venv}/bin first on PATH (./install.sh does this) and 'pip install' lands here.`,
  ];
  return { text: lines.join('\n') + '\n', json: { home: paths.home, venv: paths.venv, python: version, created: true, op: rec?.op ?? null, baseline } };
}
