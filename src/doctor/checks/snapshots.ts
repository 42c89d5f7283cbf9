/**
 * Snapshot tags, read by the state-repo check's pass. A bad tag is never a reason to touch the
 * history: it is reported (and removed) alone.
 */
import { join } from 'node:path';
import type { Check } from '../check.js';

const list = (xs: { name: string; why: string }[]) => xs.map((x) => `'${x.name}' (${x.why})`).join(', ');

export const snapshots: Check = {
  name: 'snapshots',
  reads: ['repo'],
  after: ['state-repo'], // a new repo keeps only the readable ones
  async run(scan) {
    const r = await scan.repoCheck();
    if (!r || r.check.problems.length) return null;
    const v = r.check;
    if (v.tagProblems.length) {
      return {
        status: 'problem',
        message: `${v.tagProblems.length} snapshot(s) cannot be read: ${list(v.tagProblems)}`,
        fix: `remove the unreadable snapshot tag(s) (name and id noted in ${removedLog(scan.paths.runtime)}); history and the other snapshots stay`,
        fixable: true,
      };
    }
    if (v.foreignTags.length) return { status: 'warning', message: `tag(s) made outside pyctl that are not snapshots, skipped: ${list(v.foreignTags)}`, fix: null };
    return null;
  },
  fix: {
    writes: ['repo'],
    async apply(scan) {
      const bad = (await scan.repoCheck())!.check.tagProblems.map((x) => x.name);
      const log = removedLog(scan.paths.runtime);
      return `removed ${(await scan.home.repo.removeTags(bad, log)).join(', ')} (noted in ${log})`;
    },
  },
};

const removedLog = (runtime: string) => join(runtime, 'removed-tags');
