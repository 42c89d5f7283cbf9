/** pyctl status: where things are, what is first on PATH, the last operation, and drift. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openHome, type Home } from '../operations/home.js';
import { readLastIfHead } from '../operations/last.js';
import { listOps } from '../operations/history.js';
import { venvMoved } from '../operations/stamp.js';
import { renderStatus, type StatusData, type TierSummary } from '../render/status.js';
import { snapshotCounts } from '../gitstore/refs.js';
import { parseFreeze, venvPythonVersion } from '../venv/freeze.js';
import { pathReport } from '../venv/path-check.js';
import { readTextOr } from '../gitstore/files.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';
import { quickTier } from '../lanes/status.js';

export { firstOnPath, pathReport, type PathReport } from '../venv/path-check.js';
export { tierLine, type TierSummary } from '../render/status.js';

/** A short read-only look at another tier (the system venv from a user's status): never writes. */
export async function tierSummary(home: Home): Promise<TierSummary> {
  const { paths } = home;
  const base = { home: paths.home, venv: paths.venv };
  try {
    const quick = quickTier(paths);
    if (quick) return quick;
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

export async function status(ctx: Context): Promise<Output> {
  const { home, paint: p } = ctx;
  const { paths } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const cached = readLastIfHead(paths);
  let last: StatusData['last'] = cached ?? undefined;
  let packages = cached?.packages;
  if (!cached) {
    // HEAD moved without pyctl (a hand-made commit): read it the slow way.
    const mine = (await listOps(home, 1)).find((x) => x.meta);
    last = mine ? { op: mine.meta!.op, subject: mine.commit.parsed.subject, time: mine.commit.time } : undefined;
    packages = parseFreeze(readTextOr(paths.freeze, '') ?? '').size;
  }
  // The other tier: a user's status names the system venv; --system status says who may change it.
  const other = ctx.system ? null : await tierSummary(openHome(undefined, { system: true }));
  return renderStatus(
    {
      home: paths.home,
      venv: paths.venv,
      python: venvPythonVersion(paths.venv),
      pythonMissing: !existsSync(join(paths.venv, 'bin', 'python')),
      packages,
      system: !!ctx.system,
      root: process.geteuid?.() === 0,
      path: pathReport(paths.venv),
      last,
      inSync: !venvMoved(paths),
      ...((c) => ({ snapshots: c.named, autoSnapshots: c.auto }))(snapshotCounts(paths.gitDir)),
      other,
    },
    p,
  );
}
