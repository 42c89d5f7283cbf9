/** pyctl push [REMOTE] [SNAPSHOT...]: share the history and snapshots through a git remote. */
import { PyctlError } from '../errors.js';
import { Remotes, type PushResult } from '../sharing/remotes.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';

export async function push(ctx: Context, remote: string | undefined, snapshots: string[], opts: { force?: boolean; forceMain?: boolean; allowSecrets?: boolean }): Promise<Output> {
  const { home, paint: p } = ctx;
  home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const name = remote ?? 'origin';
  const remotes = new Remotes(home.paths, ctx.note);
  if (remote && !(await remotes.list()).some((x) => x.name === remote) && (await home.repo.listTags()).includes(remote)) {
    // `pyctl push ml`: a snapshot given where the remote goes.
    throw new PyctlError('REMOTE', `no remote named '${remote}' (it is a snapshot name)`, `the remote comes first: pyctl push origin ${[remote, ...snapshots].join(' ')}`);
  }
  const r: PushResult = await remotes.push(name, snapshots, { force: opts.force, forceMain: opts.forceMain, allowSecrets: opts.allowSecrets });
  const lines: string[] = [];
  const mainText: Record<PushResult['main'], string> = {
    pushed: 'history (main): pushed',
    'up-to-date': 'history (main): already there',
    replaced: p.yellow('history (main): replaced (--force-main)'),
    diverged: p.yellow(
      "history (main): not pushed, the remote's main has history this home does not have (another machine pushed it); the snapshots carry their own history; --force-main replaces it, dropping that history",
    ),
  };
  lines.push(mainText[r.main]);
  for (const t of r.tags) {
    const s = t.status === 'pushed' ? p.green('pushed') : t.status === 'replaced' ? p.yellow('replaced (--force)') : p.dim('already there');
    lines.push(`snapshot ${p.bold(t.name)}: ${s}`);
  }
  if (!r.tags.length) lines.push(p.dim("no snapshots to push (make one with 'pyctl snapshot NAME')"));
  return { text: `${p.bold(`push to ${r.remote}`)} ${p.dim(r.url)}\n${lines.map((l) => `  ${l}`).join('\n')}\n`, json: r };
}
