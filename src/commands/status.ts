/** pyctl status: where things are, what is first on PATH, the last operation, and drift. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { readLastIfHead, type LastOp } from '../ledger/last.js';
import { listOps } from '../ledger/history.js';
import { venvMoved } from '../ledger/stamp.js';
import { countsText } from '../render/changes.js';
import { relativeTime } from '../render/time.js';
import { tagNames } from '../state/refs.js';
import { parseFreeze, venvPythonVersion } from '../venv/freeze.js';
import { readTextOr } from '../state/files.js';
import type { Context, Output } from './context.js';
import { syncDrift } from './sync.js';

/** The first `name` on PATH, as a real path, or null. */
export function firstOnPath(name: string, env = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(resolve(dir), name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

const inDir = (file: string | null, dir: string) => {
  if (!file) return false;
  try {
    return dirname(file) === dir || realpathSync(dirname(file)) === realpathSync(dir);
  } catch {
    return false;
  }
};

export interface PathReport {
  pip: string | null;
  python: string | null;
  ours: boolean;
  projectVenv: string | null;
}

export function pathReport(venv: string, env = process.env): PathReport {
  const bin = join(venv, 'bin');
  const pip = firstOnPath('pip', env);
  const python = firstOnPath('python3', env);
  const active = env.VIRTUAL_ENV && resolve(env.VIRTUAL_ENV) !== resolve(venv) ? env.VIRTUAL_ENV : null;
  return { pip, python, ours: inDir(pip, bin) && inDir(python, bin), projectVenv: active };
}

export async function status(ctx: Context): Promise<Output> {
  const { home, paint: p } = ctx;
  const { paths } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  let last: LastOp | null = readLastIfHead(paths);
  let lastSubject = last?.subject;
  let lastOp = last?.op;
  let lastTime = last?.time;
  let packages = last?.packages;
  if (!last) {
    // HEAD moved without pyctl (a hand-made commit): read it the slow way.
    const mine = (await listOps(home, 1)).find((x) => x.meta);
    lastSubject = mine?.commit.parsed.subject;
    lastOp = mine?.meta?.op;
    lastTime = mine?.commit.time;
    packages = parseFreeze(readTextOr(paths.freeze, '') ?? '').size;
  }
  const inSync = !venvMoved(paths);
  const path = pathReport(paths.venv);
  const snapshots = tagNames(paths.gitDir).filter((t) => !t.startsWith('auto/')).length;
  const python = venvPythonVersion(paths.venv);
  const pathLine = path.projectVenv
    ? `project venv ${path.projectVenv} is active (its pip is used; deactivate to return here)`
    : path.ours
      ? p.green('ok') + ` (${path.pip})`
      : p.yellow(`not first: pip is ${path.pip ?? 'not found'}, python3 is ${path.python ?? 'not found'}`) +
        `\n             hint: add ${join(paths.venv, 'bin')} to the front of PATH (./install.sh does it), then open a new shell`;
  const lines = [
    `home:        ${paths.home}`,
    `venv:        ${paths.venv} (Python ${python}${existsSync(join(paths.venv, 'bin', 'python')) ? '' : ', python missing'})`,
    `packages:    ${packages ?? '?'}`,
    `on PATH:     ${pathLine}`,
    `last op:     ${lastOp !== undefined ? `${lastOp}  ${lastSubject}  (${relativeTime(lastTime ?? 0)})` : 'none'}${last ? `  ${p.dim(countsText(last.counts))}` : ''}`,
    `in sync:     ${inSync ? p.green('yes') : p.yellow('no: the venv changed since the last record; any pyctl command records it')}`,
    `snapshots:   ${snapshots}`,
  ];
  return {
    text: lines.join('\n') + '\n',
    json: {
      home: paths.home,
      venv: paths.venv,
      python,
      packages: packages ?? null,
      path: { pip: path.pip, python3: path.python, userVenvFirst: path.ours, projectVenv: path.projectVenv },
      lastOperation: lastOp === undefined ? null : { op: lastOp, subject: lastSubject, time: lastTime },
      inSync,
      snapshots,
    },
  };
}
