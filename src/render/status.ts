/** Pure: the text and JSON of `pyctl status`, shared by its fast lane and its full path. */
import { join } from 'node:path';
import type { ChangeCounts } from '../plan/changes.js';
import type { PathReport } from '../venv/path-check.js';
import { countsText } from './changes.js';
import type { Paint } from './color.js';
import { relativeTime } from './time.js';

export interface TierSummary {
  home: string;
  venv: string;
  installed: boolean;
  packages?: number;
  lastOperation?: { op: number; subject: string; time: number } | null;
  /** Set when the tier exists but could not be read. */
  error?: string;
}

export function tierLine(t: TierSummary): string {
  if (!t.installed) return `not installed (${t.venv})`;
  if (t.error) return `${t.venv} (unreadable: ${t.error})`;
  const last = t.lastOperation ? `last op ${t.lastOperation.op} ${t.lastOperation.subject}, ${relativeTime(t.lastOperation.time)}` : 'no operations';
  return `${t.venv} (${t.packages} package${t.packages === 1 ? '' : 's'}, ${last})`;
}

export interface StatusData {
  home: string;
  venv: string;
  python: string;
  pythonMissing: boolean;
  packages?: number;
  /** This is the system tier (pyctl --system status). */
  system: boolean;
  root: boolean;
  path: PathReport;
  last?: { op: number; subject: string; time: number; counts?: ChangeCounts };
  inSync: boolean;
  /** Named snapshots (auto/... not counted). */
  snapshots: number;
  /** The automatic auto/before-N ones made before undo/restore/clean. */
  autoSnapshots: number;
  /** From a user's status: the other tier. */
  other: TierSummary | null;
}

export function renderStatus(d: StatusData, p: Paint): { text: string; json: unknown } {
  const path = d.path;
  const pathLine = path.projectVenv
    ? `project venv ${path.projectVenv} is active (its pip is used; deactivate to return here)`
    : path.ours
      ? p.green('ok') + ` (${path.pip})`
      : p.yellow(`not first: pip is ${path.pip ?? 'not found'}, python3 is ${path.python ?? 'not found'}`) +
        `\n             hint: add ${join(d.venv, 'bin')} to the front of PATH (./install.sh does it), then open a new shell`;
  const lines = [
    `home:        ${d.home}${d.system ? ' (system tier)' : ''}`,
    `venv:        ${d.venv} (Python ${d.python}${d.pythonMissing ? ', python missing' : ''})`,
    `packages:    ${d.packages ?? '?'}`,
    d.system ? `access:      ${d.root ? 'root: changes are made and recorded here' : 'read-only for you (changes need root: sudo pip ..., sudo pyctl --system ...)'}` : `on PATH:     ${pathLine}`,
    `last op:     ${d.last ? `${d.last.op}  ${d.last.subject}  (${relativeTime(d.last.time)})` : 'none'}${d.last?.counts ? `  ${p.dim(countsText(d.last.counts))}` : ''}`,
    `in sync:     ${d.inSync ? p.green('yes') : p.yellow(`no: the venv changed since the last record; ${d.system && !d.root ? "root's next pip run or 'pyctl --system sync' records it" : "the next change or 'pyctl sync' records it"}`)}`,
    `snapshots:   ${snapshotsLine(d.snapshots, d.autoSnapshots)}`,
    ...(d.other && d.other.home !== d.home ? [`system venv: ${tierLine(d.other)}`] : []),
  ];
  return {
    text: lines.join('\n') + '\n',
    json: {
      home: d.home,
      venv: d.venv,
      python: d.python,
      packages: d.packages ?? null,
      tier: d.system ? 'system' : 'user',
      path: d.system ? null : { pip: path.pip, python3: path.python, userVenvFirst: path.ours, projectVenv: path.projectVenv },
      lastOperation: d.last ? { op: d.last.op, subject: d.last.subject, time: d.last.time } : null,
      inSync: d.inSync,
      snapshots: d.snapshots,
      autoSnapshots: d.autoSnapshots,
      system: d.other,
    },
  };
}

/** The one wording of snapshot counts (status and doctor). */
export function snapshotsLine(named: number, auto: number): string {
  return `${named} named, ${auto} automatic (auto/…, made before undo/restore/clean)`;
}
