/** The state repo: every object pyctl relies on reads; the fix starts a new history from the venv. */
import { existsSync } from 'node:fs';
import { snapshotCounts } from '../../gitstore/refs.js';
import { snapshotsLine } from '../../render/status.js';
import { rebuildRepo, type RepoRepair } from '../repair-repo.js';
import type { Check } from '../check.js';

export const stateRepo: Check = {
  name: 'state-repo',
  reads: ['repo', 'config'],
  async run(scan) {
    const { paths } = scan;
    const r = await scan.repoCheck();
    const canFix = scan.venvPresent();
    if (!r) {
      const there = existsSync(paths.gitDir);
      return {
        status: 'problem',
        message: `${paths.gitDir} is missing${there ? ' its HEAD' : ''}: history is not recorded`,
        fix: canFix ? `${there ? `move ${paths.gitDir} aside, then ` : ''}start a new history with one commit of the venv's packages` : "run 'pyctl init'",
        fixable: canFix,
      };
    }
    const v = r.check;
    if (v.problems.length) {
      const tags = await scan.home.repo.readableTags();
      return {
        status: 'problem',
        message: `the state repo is damaged: ${v.problems[0]}${v.problems.length > 1 ? ` (and ${v.problems.length - 1} more)` : ''}`,
        fix: canFix
          ? `move ${paths.gitDir} aside to .git.corrupt-<time> and start a new history from the venv, keeping ${tags.length} readable snapshot(s); older history stays only in the moved copy`
          : "run 'pyctl init'",
        fixable: canFix,
      };
    }
    const sc = snapshotCounts(paths.gitDir);
    return {
      status: 'ok',
      message: `${v.commits} commit(s) (the newest ${Math.min(r.max, v.commits)} read in full); snapshots: ${snapshotsLine(sc.named, sc.auto)}; checked in ${r.ms} ms`,
      fix: null,
    };
  },
  fix: {
    writes: ['repo'],
    apply: async (scan) => repaired(await rebuildRepo(scan.home)),
  },
};

function repaired(r: RepoRepair): string {
  const lines = [`started a new history${r.op !== null ? ` (operation ${r.op}: the venv as it is now)` : ''}`];
  if (r.aside)
    lines.push(
      `  the damaged repo is kept at ${r.aside}${r.oldCommits ? ` (${r.oldCommits} readable commit(s)${r.oldLastOp !== undefined ? `, last operation ${r.oldLastOp}` : ''}: that history is lost from 'pyctl history')` : ''}`,
    );
  if (r.keptTags.length) lines.push(`  kept snapshot(s): ${r.keptTags.join(', ')}`);
  if (r.lostTags.length) lines.push(`  lost snapshot(s) (unreadable): ${r.lostTags.join(', ')}`);
  return lines.join('\n');
}
