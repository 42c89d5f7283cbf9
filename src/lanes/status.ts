/**
 * The fast lane of `pyctl status`: when the home is recorded, in sync and unlocked, everything
 * status shows comes from a few small files, so it answers without loading the command-line
 * parser, git or the freeze reader (its budget is a quarter of `pip freeze`). Anything unusual
 * (drift, a lock, a crash marker, a hand-made commit, config warnings or errors) returns false
 * and the full command runs instead, which records and reports it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { readLastIfHead } from '../operations/last.js';
import { defaultHome, homePaths, systemHome, type HomePaths } from '../paths.js';
import { paint, useColor } from '../render/color.js';
import { renderStatus, type TierSummary } from '../render/status.js';
import { readTextOr } from '../gitstore/files.js';
import { crashMarkerPath } from '../gitstore/lock.js';
import { snapshotCounts } from '../gitstore/refs.js';
import { pathReport } from '../venv/path-check.js';
import { sitePackagesDir, venvPythonVersion } from '../venv/syspath.js';

/**
 * A tier's summary from its last-operation cache; null when it is set up but the cache is stale
 * (a hand-made commit), which needs the full read in status.ts.
 */
export function quickTier(paths: HomePaths): TierSummary | null {
  const base = { home: paths.home, venv: paths.venv };
  if (!existsSync(join(paths.gitDir, 'HEAD')) || !existsSync(paths.venv)) return { ...base, installed: false };
  const l = readLastIfHead(paths);
  return l ? { ...base, installed: true, packages: l.packages, lastOperation: { op: l.op, subject: l.subject, time: l.time } } : null;
}

export async function fastStatus(args: string[]): Promise<boolean> {
  try {
    const paths = homePaths(defaultHome());
    if (existsSync(paths.lock) || existsSync(crashMarkerPath(paths.lock))) return false;
    const last = readLastIfHead(paths);
    if (!last || !existsSync(paths.venv)) return false;
    const stamp = readTextOr(paths.stamp)?.trim();
    if (!stamp || !/^\d+$/.test(stamp) || BigInt(stamp) !== statSync(sitePackagesDir(paths.venv), { bigint: true }).mtimeNs) return false;
    const { config, warnings } = loadConfig(paths.config);
    if (warnings.length) return false;
    const other = quickTier(homePaths(systemHome()));
    if (!other) return false;
    const color = !args.includes('--no-color') && useColor(process.stdout, config.ui.color);
    const out = renderStatus(
      {
        home: paths.home,
        venv: paths.venv,
        python: venvPythonVersion(paths.venv),
        pythonMissing: !existsSync(join(paths.venv, 'bin', 'python')),
        packages: last.packages,
        system: false,
        root: process.geteuid?.() === 0,
        path: pathReport(paths.venv),
        last,
        inSync: true,
        ...((c) => ({ snapshots: c.named, autoSnapshots: c.auto }))(snapshotCounts(paths.gitDir)),
        other,
      },
      paint(color),
    );
    process.stdout.write(args.includes('--json') ? JSON.stringify(out.json, null, 2) + '\n' : out.text);
    return true;
  } catch {
    return false; // the full command explains whatever went wrong
  }
}
