/** The venv against the last recorded state; the fix records the difference as an external change. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { recordState } from '../../operations/record.js';
import { venvMoved } from '../../operations/stamp.js';
import { FREEZE_FILE } from '../../paths.js';
import { changeLine, diffSets } from '../../plan/changes.js';
import { readFreeze } from '../../venv/freeze.js';
import { parseFreeze } from '../../packaging/parse-freeze.js';
import type { Check } from '../check.js';

export const drift: Check = {
  name: 'drift',
  reads: ['repo', 'venv', 'side-copies'],
  after: ['state-repo', 'venv', 'leftovers'], // judge the venv that stays against the history that stays
  async run(scan) {
    const { paths } = scan;
    const r = await scan.repoCheck();
    const head = r?.head;
    const repoOk = !!r && !r.check.problems.length;
    if (!repoOk || !head) return { status: 'warning', message: 'not checked: no readable recorded state', fix: repoOk ? null : 'the rebuilt state repo records the venv as it is' };
    if (!existsSync(join(paths.venv, 'pyvenv.cfg'))) return { status: 'warning', message: 'not checked: the venv is missing', fix: null };
    if ((await scan.halfBuilt()) || (scan.health().status !== 'ok' && scan.restorable())) {
      return { status: 'warning', message: 'not checked: an interrupted rebuild left the previous venv beside this one (see venv/leftovers)', fix: null };
    }
    const same = { status: 'ok', message: 'the venv matches the last recorded state', fix: null } as const;
    if (!venvMoved(paths)) return same;
    let changes: ReturnType<typeof diffSets> = [];
    try {
      changes = diffSets(parseFreeze((await scan.home.repo.readAt(head, FREEZE_FILE)) ?? ''), parseFreeze(readFreeze(paths.venv)));
    } catch {
      // unreadable site-packages: the venv check says why
    }
    if (!changes.length) return same;
    return {
      status: 'problem',
      message: `the venv changed outside pip since the last record: ${changes.slice(0, 5).map(changeLine).join(', ')}${changes.length > 5 ? `, … (${changes.length})` : ''}`,
      fix: 'record it as an external change (undo can then take it back)',
      fixable: true,
    };
  },
  fix: {
    writes: ['repo'],
    async apply(scan) {
      const rec = await recordState(scan.home, { subject: 'external change (found by pyctl doctor)', kind: 'external' });
      return rec ? `recorded as operation ${rec.op} (external change)` : 'nothing to record any more';
    },
  },
};
