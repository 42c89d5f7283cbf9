/**
 * What `pyctl status` shows, gathered in one place for both its paths: the fast lane
 * (lanes/status.ts, from a few small files) and the full command (commands/status.ts, after
 * recording drift). Only what differs between them is passed in. Keep it light: the fast lane's
 * module bundles this and everything it imports.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotCounts } from '../gitstore/refs.js';
import type { HomePaths } from '../paths.js';
import type { StatusData, TierSummary } from '../render/status.js';
import { pathReport } from '../venv/path-check.js';
import { venvPythonVersion } from '../venv/syspath.js';
import { readLastIfHead } from './last.js';

/**
 * A tier's summary from its last-operation cache; null when it is set up but the cache is stale
 * (a hand-made commit), which needs the full read in commands/status.ts.
 */
export function quickTier(paths: HomePaths): TierSummary | null {
  const base = { home: paths.home, venv: paths.venv };
  if (!existsSync(join(paths.gitDir, 'HEAD')) || !existsSync(paths.venv)) return { ...base, installed: false };
  const l = readLastIfHead(paths);
  return l ? { ...base, installed: true, packages: l.packages, lastOperation: { op: l.op, subject: l.subject, time: l.time } } : null;
}

export function statusData(paths: HomePaths, d: Pick<StatusData, 'packages' | 'last' | 'inSync' | 'system' | 'other'>): StatusData {
  const snapshots = snapshotCounts(paths.gitDir);
  return {
    home: paths.home,
    venv: paths.venv,
    python: venvPythonVersion(paths.venv),
    pythonMissing: !existsSync(join(paths.venv, 'bin', 'python')),
    packages: d.packages,
    system: d.system,
    root: process.geteuid?.() === 0,
    path: pathReport(paths.venv),
    last: d.last,
    inSync: d.inSync,
    snapshots: snapshots.named,
    autoSnapshots: snapshots.auto,
    other: d.other,
  };
}
