/**
 * Rebuild a missing or damaged state repo from the venv: the damaged `.git` is moved aside to
 * `.git.corrupt-<time>` (never deleted), a new repo gets one commit of the venv's current set,
 * and every snapshot whose state can still be read keeps its name (as a tag on a commit holding
 * that state, outside the new history). The caller holds the home's lock.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Home } from '../operations/home.js';
import { recordState } from '../operations/record.js';
import { writeAtomic } from '../fs/durable.js';
import { tagNames } from '../gitstore/refs.js';
import { checkHome } from '../operations/home-check.js';

export interface RepoRepair {
  aside: string | null;
  /** Commits that could still be read on the old main line (lost from history, kept in `aside`). */
  oldCommits: number;
  oldLastOp?: number;
  keptTags: string[];
  lostTags: string[];
  op: number | null;
}

export async function rebuildRepo(home: Home): Promise<RepoRepair> {
  const { paths, repo } = home;
  let aside: string | null = null;
  let kept: Awaited<ReturnType<typeof repo.readableTags>> = [];
  let all: string[] = [];
  let oldCommits = 0;
  let oldLastOp: number | undefined;
  // A new repo is made only where init would make one (not inside another project's repo).
  if (!existsSync(paths.gitDir)) checkHome(paths.home);
  if (existsSync(paths.gitDir)) {
    all = tagNames(paths.gitDir);
    kept = await repo.readableTags();
    const v = await repo.verify(0);
    oldCommits = v.commits;
    oldLastOp = v.lastOp;
    aside = `${paths.gitDir}.corrupt-${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
    renameSync(paths.gitDir, aside);
  }
  repo.forget();
  // Our lock moved away with the old folder: hold the new one for the rest of the repair.
  mkdirSync(paths.runtime, { recursive: true });
  writeAtomic(paths.lock, `${process.pid} ${hostname()} pyctl doctor --fix\n`);
  await repo.init();
  const lost = oldCommits ? `; ${oldCommits} earlier commit(s)${oldLastOp !== undefined ? ` up to operation ${oldLastOp}` : ''} stay in ${aside}` : '';
  const rec = await recordState(home, { subject: `pyctl doctor --fix: new state repo from the venv${lost}`, kind: 'init', always: true });
  for (const t of kept) {
    const c = await repo.commitDetached(t.freeze, `snapshot ${t.name}, kept when the state repo was rebuilt\n`, t.time);
    await repo.tag(t.name, c, t.message, true);
  }
  const keptNames = kept.map((t) => t.name);
  return { aside, oldCommits, oldLastOp, keptTags: keptNames, lostTags: all.filter((n) => !keptNames.includes(n)), op: rec?.op ?? null };
}
