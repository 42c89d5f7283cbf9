/** pyctl snapshot NAME / --delete NAME, and pyctl list-snapshots. */
import { PyctlError, usage } from '../errors.js';
import { freezeAt } from '../operations/history.js';
import { recordDrift } from '../operations/record.js';
import { withLock } from '../gitstore/lock.js';
import { refFormatProblem, refNameProblem } from '../gitstore/refname.js';
import { branchNames, remoteNames, tagNames } from '../gitstore/refs.js';
import { shortDate } from '../render/time.js';
import { parseFreeze } from '../venv/freeze.js';
import type { Context, Output } from '../operations/context.js';
import { driftNote, syncDrift } from '../operations/sync.js';

function checkName(name: string, gitDir: string, existing = false): void {
  // Deleting: any existing tag of a form git accepts (an automatic snapshot, an old `main` tag).
  // A new name must also not shadow a branch, HEAD, a ref path or a remote's names.
  const problem = existing
    ? refFormatProblem(name.startsWith('auto/') ? name.slice(5) : name)
    : refNameProblem(name, { branches: branchNames(gitDir), remotes: remoteNames(gitDir) });
  if (problem) throw new PyctlError('BAD_SNAPSHOT_NAME', `'${name}' cannot be a snapshot name: ${problem}`, 'use letters, digits, - _ . and /, e.g. dev-tools or ml/2024-05');
}

export async function snapshot(ctx: Context, name: string | undefined, opts: { message?: string; force?: boolean; delete?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths, repo } = home.requireInitialized();
  if (name === undefined) throw usage('snapshot needs a NAME', 'pyctl snapshot dev-tools -m "my tools"');
  if (opts.delete) {
    checkName(name, paths.gitDir, true);
    await withLock(paths.lock, 'pyctl snapshot --delete', async () => {
      if (!tagNames(paths.gitDir).includes(name)) throw new PyctlError('UNKNOWN_SNAPSHOT', `no snapshot named '${name}'`, "see 'pyctl list-snapshots'");
      await repo.deleteTag(name);
    });
    return { text: `deleted snapshot '${name}'\n`, json: { deleted: name } };
  }
  checkName(name, paths.gitDir);
  return withLock(paths.lock, 'pyctl snapshot', async () => {
    // Outside changes first, under the same lock, so the snapshot names the venv as it is.
    const drift = await recordDrift(home);
    if (drift) ctx.note(driftNote(drift));
    const existing = tagNames(paths.gitDir).includes(name) ? await repo.readTag(name).catch(() => ({ time: 0 })) : null;
    if (existing && !opts.force) {
      throw new PyctlError('SNAPSHOT_EXISTS', `a snapshot named '${name}' already exists${existing.time ? ` (${shortDate(existing.time)})` : ''}`, `choose another name, or replace it with 'pyctl snapshot ${name} --force'`);
    }
    const head = (await repo.headOid())!;
    const count = parseFreeze(await freezeAt(home, head)).size;
    const message = `${opts.message?.trim() || `snapshot ${name}`}\n\nPackages: ${count}\n`;
    await repo.tag(name, head, message, !!opts.force);
    return {
      text: `${existing ? 'replaced' : 'saved'} snapshot '${name}' (${count} packages); bring it back with: pyctl restore ${name}\n`,
      json: { name, packages: count, commit: head, replaced: !!existing },
    };
  });
}

export async function listSnapshots(ctx: Context, opts: { all?: boolean }): Promise<Output> {
  const { home, paint: p } = ctx;
  const { repo } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const head = await repo.headOid();
  const now = await freezeAt(home, head ?? undefined);
  const { tags, skipped } = await repo.snapshots();
  for (const k of skipped) if (opts.all || !k.name.startsWith('auto/')) ctx.note(`warning: skipped tag '${k.name}': ${k.why}${k.broken ? " (run 'pyctl doctor')" : ''}`);
  const rows = [];
  for (const t of tags) {
    const name = t.name;
    if (!opts.all && name.startsWith('auto/')) continue;
    let freeze: string;
    try {
      freeze = await freezeAt(home, t.commit);
    } catch (e) {
      ctx.note(`warning: skipped snapshot '${name}': ${(e as Error).message} (run 'pyctl doctor')`);
      continue;
    }
    const [first] = t.message.split('\n');
    rows.push({
      name,
      time: new Date(t.time * 1000).toISOString(),
      date: shortDate(t.time),
      packages: parseFreeze(freeze).size,
      message: first ?? '',
      current: freeze === now,
      commit: t.commit,
    });
  }
  rows.sort((a, b) => (a.time < b.time ? 1 : -1));
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const text = rows.length
    ? rows.map((r) => `${p.bold(r.name.padEnd(width))}  ${r.date}  ${String(r.packages).padStart(4)} pkgs  ${r.current ? p.green('= now') : '     '}  ${r.message}`).join('\n') + '\n'
    : "no snapshots yet: save one with 'pyctl snapshot NAME'\n";
  return { text, json: rows.map(({ date: _d, ...r }) => r) };
}
