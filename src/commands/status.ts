/** pyctl status: where things are, what is first on PATH, the last operation, and drift. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { openHome, type Home } from '../ledger/home.js';
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

export interface TierSummary {
  home: string;
  venv: string;
  installed: boolean;
  packages?: number;
  lastOperation?: { op: number; subject: string; time: number } | null;
  /** Set when the tier exists but could not be read. */
  error?: string;
}

/** A short read-only look at another tier (the system venv from a user's status): never writes. */
export async function tierSummary(home: Home): Promise<TierSummary> {
  const { paths } = home;
  const base = { home: paths.home, venv: paths.venv };
  if (!home.repo.exists() || !existsSync(paths.venv)) return { ...base, installed: false };
  try {
    const last = readLastIfHead(paths);
    if (last) return { ...base, installed: true, packages: last.packages, lastOperation: { op: last.op, subject: last.subject, time: last.time } };
    const mine = (await listOps(home, 1)).find((x) => x.meta);
    return {
      ...base,
      installed: true,
      packages: parseFreeze(readTextOr(paths.freeze, '') ?? '').size,
      lastOperation: mine ? { op: mine.meta!.op, subject: mine.commit.parsed.subject, time: mine.commit.time } : null,
    };
  } catch (e) {
    return { ...base, installed: true, error: (e as Error).message };
  }
}

export function tierLine(t: TierSummary): string {
  if (!t.installed) return `not installed (${t.venv})`;
  if (t.error) return `${t.venv} (unreadable: ${t.error})`;
  const last = t.lastOperation ? `last op ${t.lastOperation.op} ${t.lastOperation.subject}, ${relativeTime(t.lastOperation.time)}` : 'no operations';
  return `${t.venv} (${t.packages} package${t.packages === 1 ? '' : 's'}, ${last})`;
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
  // The other tier: a user's status names the system venv; --system status says who may change it.
  const sys = ctx.system ? null : await tierSummary(openHome(undefined, { system: true }));
  const root = process.geteuid?.() === 0;
  const lines = [
    `home:        ${paths.home}${ctx.system ? ' (system tier)' : ''}`,
    `venv:        ${paths.venv} (Python ${python}${existsSync(join(paths.venv, 'bin', 'python')) ? '' : ', python missing'})`,
    `packages:    ${packages ?? '?'}`,
    ctx.system
      ? `access:      ${root ? 'root: changes are made and recorded here' : 'read-only for you (changes need root: sudo pip ..., sudo pyctl --system ...)'}`
      : `on PATH:     ${pathLine}`,
    `last op:     ${lastOp !== undefined ? `${lastOp}  ${lastSubject}  (${relativeTime(lastTime ?? 0)})` : 'none'}${last ? `  ${p.dim(countsText(last.counts))}` : ''}`,
    `in sync:     ${inSync ? p.green('yes') : p.yellow(`no: the venv changed since the last record; ${ctx.system && !root ? "root's next pip or pyctl --system command records it" : 'any pyctl command records it'}`)}`,
    `snapshots:   ${snapshots}`,
    ...(sys && sys.home !== paths.home ? [`system venv: ${tierLine(sys)}`] : []),
  ];
  return {
    text: lines.join('\n') + '\n',
    json: {
      home: paths.home,
      venv: paths.venv,
      python,
      packages: packages ?? null,
      tier: ctx.system ? 'system' : 'user',
      path: ctx.system ? null : { pip: path.pip, python3: path.python, userVenvFirst: path.ours, projectVenv: path.projectVenv },
      lastOperation: lastOp === undefined ? null : { op: lastOp, subject: lastSubject, time: lastTime },
      inSync,
      snapshots,
      system: sys,
    },
  };
}
