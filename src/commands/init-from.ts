/**
 * pyctl init --from URL [--snapshot NAME]: a new machine in one step. The remote is asked first
 * (a wrong URL, refused credentials or an unknown snapshot leave nothing behind); then the local
 * init (operation 0), the remote saved as `origin` and fetched, and the venv made to match the
 * snapshot (default: the remote's main) as one recorded operation. Any failure after the home
 * is made removes it again: no half-made home.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { changeState } from '../operations/change.js';
import type { Context, Output } from '../operations/context.js';
import { freezeAt, pythonMismatchWarning } from '../operations/history.js';
import { maskSecrets } from '../sharing/mask.js';
import { emptyOrForeign, normalizeRemoteUrl, Remotes } from '../sharing/remotes.js';
import { findPython } from '../venv/create.js';
import { initLocal } from './init.js';
import { isAutoSnapshot } from '../gitstore/refname.js';

const REMOTE = 'origin';

export async function initFrom(ctx: Context, rawUrl: string, opts: { python?: string; pipWheel?: string; snapshot?: string }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home;
  const { url: stored } = normalizeRemoteUrl(rawUrl);
  const shown = maskSecrets(stored);
  const homeExisted = existsSync(paths.home);
  if (home.initialized() || (homeExisted && readdirSync(paths.home).length > 0)) {
    throw new PyctlError(
      'HOME_EXISTS',
      `${paths.home} is already ${home.initialized() ? 'a pyctl home' : 'a folder with files in it'}; init --from only makes a new home`,
      `bring the environment into this home instead: pyctl remote add ${REMOTE} ${shown} && pyctl fetch && pyctl restore ${REMOTE}/${opts.snapshot ?? 'NAME'} (or pick a new home with --home DIR)`,
    );
  }
  const remotes = new Remotes(paths, ctx.note);
  // Userinfo in the URL is used for this run only; the saved remote has none.
  const runUrl = rawUrl.trim().startsWith('http') ? rawUrl.trim() : stored;
  const refs = await remotes.probe(runUrl);
  emptyOrForeign(refs, runUrl);
  if (opts.snapshot !== undefined && !refs.has(`refs/tags/${opts.snapshot}`)) {
    const names = [...refs.keys()].filter((r) => r.startsWith('refs/tags/') && !isAutoSnapshot(r.slice(10))).map((r) => r.slice(10));
    throw new PyctlError(
      'UNKNOWN_SNAPSHOT',
      `${shown} has no snapshot named '${opts.snapshot}'; nothing was made`,
      names.length ? `its snapshots: ${names.join(', ')}; without --snapshot, its main (latest state) is used` : `it has no snapshots; without --snapshot, its main (latest state) is used`,
    );
  }
  const python = findPython(opts.python);

  try {
    const local = await initLocal(ctx, python, opts.pipWheel ? resolve(opts.pipWheel) : undefined);
    const added = await remotes.add(REMOTE, rawUrl);
    if (added.strippedCredentials) ctx.note('the credentials in the URL were not stored; set PYCTL_GIT_TOKEN (or use a git credential helper) for later fetches and pushes');
    const fetched = await remotes.fetch(REMOTE, { url: runUrl });
    const label = opts.snapshot !== undefined ? `${REMOTE}/${opts.snapshot}` : `${REMOTE}/main`;
    if (opts.snapshot !== undefined) {
      const w = await pythonMismatchWarning(home, label).catch(() => undefined);
      if (w) ctx.note(w);
    }
    const restored = await changeState(ctx, {
      kind: 'restore',
      async resolve() {
        const commit = opts.snapshot !== undefined ? fetched.tags.find((t) => t.name === opts.snapshot)?.commit : fetched.main;
        if (!commit) throw new PyctlError('UNKNOWN_SNAPSHOT', `${shown} has no snapshot named '${opts.snapshot}' any more`, 'run again without --snapshot, or name another one');
        return { freeze: await freezeAt(home, commit), subject: `pyctl init --from ${shown}${opts.snapshot !== undefined ? ` --snapshot ${opts.snapshot}` : ''}`, target: label, commit };
      },
    });
    if (restored.exitCode) throw new PyctlError('RECONCILE_FAILED', `could not make the venv match ${label}`, 'see the messages above; nothing was kept');
    const snaps = fetched.tags.map((t) => `${REMOTE}/${t.name}`);
    const text = [
      (local.text ?? '').split('\n')[0],
      `  remote:  ${REMOTE} ${shown} (${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}${snaps.length ? `: ${snaps.slice(0, 8).join(', ')}${snaps.length > 8 ? ', ...' : ''}` : ''})`,
      `  venv now matches ${label}:`,
      ...(restored.text ?? '')
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    ].join('\n');
    return {
      text: text + '\n',
      json: { home: paths.home, venv: paths.venv, created: true, remote: { name: REMOTE, url: shown }, from: label, init: local.json, fetch: fetched, restore: restored.json },
    };
  } catch (e) {
    // Leave no half-made home: it did not exist (or was empty) before this command.
    if (homeExisted) for (const f of readdirSync(paths.home)) rmSync(join(paths.home, f), { recursive: true, force: true });
    else rmSync(paths.home, { recursive: true, force: true });
    throw e;
  }
}
