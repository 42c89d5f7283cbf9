/** pyctl snapshot NAME / --delete NAME, and pyctl list-snapshots. */
import { PyctlError, usage } from '../errors.js';
import { freezeAt } from '../operations/history.js';
import { recordDrift } from '../operations/record.js';
import { withLock } from '../gitstore/lock.js';
import { AUTO_PREFIX, isAutoSnapshot, refFormatProblem, refNameProblem } from '../gitstore/refname.js';
import { branchNames, fetchedTagNames, remoteNames, tagNames } from '../gitstore/refs.js';
import type { TagInfo } from '../gitstore/repo.js';
import { unknownRemote } from '../sharing/hints.js';
import { shortDate } from '../render/time.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import type { Context, Output } from '../operations/context.js';
import { driftNote, notePending } from '../operations/sync.js';

function checkName(name: string, gitDir: string, existing = false): void {
  // Deleting: any existing tag of a form git accepts (an automatic snapshot, an old `main` tag).
  // A new name must also not shadow a branch, HEAD, a ref path or a remote's names.
  const problem = existing ? refFormatProblem(isAutoSnapshot(name) ? name.slice(AUTO_PREFIX.length) : name) : refNameProblem(name, { branches: branchNames(gitDir), remotes: remoteNames(gitDir) });
  if (problem) throw new PyctlError('BAD_SNAPSHOT_NAME', `'${name}' cannot be a snapshot name: ${problem}`, 'use letters, digits, - _ . and /, e.g. dev-tools or ml/2024-05');
}

export async function snapshot(ctx: Context, name: string | undefined, opts: { message?: string; force?: boolean; delete?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths, repo } = home.requireInitialized();
  if (name === undefined) throw usage('snapshot needs a NAME', 'pyctl snapshot dev-tools -m "my tools"');
  if (opts.delete) {
    checkName(name, paths.gitDir, true);
    await withLock(
      paths.lock,
      'pyctl snapshot --delete',
      async () => {
        if (!tagNames(paths.gitDir).includes(name)) throw new PyctlError('UNKNOWN_SNAPSHOT', `no snapshot named '${name}'`, "see 'pyctl list-snapshots'");
        await repo.deleteTag(name);
      },
      { note: ctx.note },
    );
    return { text: `deleted snapshot '${name}'\n`, json: { deleted: name } };
  }
  checkName(name, paths.gitDir);
  return withLock(
    paths.lock,
    'pyctl snapshot',
    async () => {
      // Outside changes first, under the same lock, so the snapshot names the venv as it is.
      const drift = await recordDrift(home);
      if (drift) ctx.note(driftNote(drift));
      const existing = tagNames(paths.gitDir).includes(name) ? await repo.readTag(name).catch(() => ({ time: 0 })) : null;
      if (existing && !opts.force) {
        throw new PyctlError(
          'SNAPSHOT_EXISTS',
          `a snapshot named '${name}' already exists${existing.time ? ` (${shortDate(existing.time)})` : ''}`,
          `choose another name, or replace it with 'pyctl snapshot ${name} --force'`,
        );
      }
      const head = (await repo.headOid())!;
      const count = parseFreeze(await freezeAt(home, head)).size;
      const message = `${opts.message?.trim() || `snapshot ${name}`}\n\nPackages: ${count}\n`;
      await repo.tag(name, head, message, !!opts.force);
      return {
        text: `${existing ? 'replaced' : 'saved'} snapshot '${name}' (${count} packages); bring it back with: pyctl restore ${name}\n`,
        json: { name, packages: count, commit: head, replaced: !!existing },
      };
    },
    { note: ctx.note },
  );
}

interface SnapshotRow {
  name: string;
  /** Set for a snapshot fetched from a remote (its name is then REMOTE/NAME). */
  remote?: string;
  time: string;
  date: string;
  packages: number;
  message: string;
  current: boolean;
  commit: string;
}

/**
 * list-snapshots: your own (and with --all the automatic ones); with --remote [NAME] only the
 * ones fetched from that remote (or every remote), as `git branch -r` does; --all shows all.
 */
export async function listSnapshots(ctx: Context, opts: { all?: boolean; remote?: string | boolean }): Promise<Output> {
  const { home, paint: p } = ctx;
  const { repo, paths } = home.requireInitialized();
  const configured = remoteNames(paths.gitDir);
  const only = typeof opts.remote === 'string' ? opts.remote : undefined;
  if (only !== undefined && !configured.includes(only)) throw unknownRemote(only, configured);
  await notePending(ctx); // shown, not recorded: reading writes nothing
  const head = await repo.headOid();
  const now = await freezeAt(home, head ?? undefined);
  const row = async (t: TagInfo, remote?: string): Promise<SnapshotRow | null> => {
    let freeze: string;
    try {
      freeze = await freezeAt(home, t.commit);
    } catch (e) {
      ctx.note(`warning: skipped snapshot '${t.name}': ${(e as Error).message} (run 'pyctl doctor')`);
      return null;
    }
    const [first] = t.message.split('\n');
    const time = new Date(t.time * 1000).toISOString();
    return { name: t.name, ...(remote ? { remote } : {}), time, date: shortDate(t.time), packages: parseFreeze(freeze).size, message: first ?? '', current: freeze === now, commit: t.commit };
  };
  const newestFirst = (a: SnapshotRow, b: SnapshotRow) => (a.time < b.time ? 1 : -1);

  const own: SnapshotRow[] = [];
  if (!opts.remote || opts.all) {
    const { tags, skipped } = await repo.snapshots();
    for (const k of skipped) if (opts.all || !isAutoSnapshot(k.name)) ctx.note(`warning: skipped tag '${k.name}': ${k.why}${k.broken ? " (run 'pyctl doctor')" : ''}`);
    for (const t of tags) {
      if (!opts.all && isAutoSnapshot(t.name)) continue;
      const r = await row(t);
      if (r) own.push(r);
    }
  }
  const fetched: SnapshotRow[] = [];
  if (opts.remote || opts.all) {
    for (const remote of only !== undefined ? [only] : configured) {
      const rows: SnapshotRow[] = [];
      for (const n of fetchedTagNames(paths.gitDir, remote)) {
        const name = `${remote}/${n}`;
        let t: TagInfo | null;
        try {
          t = await repo.readTag(name, `refs/remotes/${remote}/tags/${n}`);
        } catch (e) {
          ctx.note(`warning: skipped snapshot '${name}': ${(e as Error).message}`);
          continue;
        }
        const r = t && (await row(t, remote));
        if (r) rows.push(r);
      }
      fetched.push(...rows.sort(newestFirst));
    }
  }
  // Your own first, newest first; then each remote's.
  const rows = [...own.sort(newestFirst), ...fetched];
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const empty = !opts.remote
    ? "no snapshots yet: save one with 'pyctl snapshot NAME'\n"
    : !configured.length
      ? "no remotes; add one with 'pyctl remote add origin https://host/path/env.git', then 'pyctl fetch'\n"
      : `no snapshots fetched${only ? ` from ${only}` : ''}: bring them in with 'pyctl fetch${only ? ` ${only}` : ''}'\n`;
  const text = rows.length
    ? rows.map((r) => `${p.bold(r.name.padEnd(width))}  ${r.date}  ${String(r.packages).padStart(4)} pkgs  ${r.current ? p.green('= now') : '     '}  ${r.message}`).join('\n') + '\n'
    : empty;
  return { text, json: rows.map(({ date: _d, ...r }) => r) };
}
