/** pyctl remote add|remove|list: where snapshots are shared (git remotes of the state repo). */
import { Remotes } from '../sharing/remotes.js';
import { transportKindOf, type TransportKind } from '../sharing/transport.js';
import type { Context, Output } from '../operations/context.js';

export async function remoteAdd(ctx: Context, name: string, url: string): Promise<Output> {
  ctx.home.requireInitialized();
  const r = await new Remotes(ctx.home.paths).add(name, url);
  if (r.strippedCredentials) {
    ctx.note(
      /^[a-z+]*ssh/i.test(url)
        ? 'the password in the URL was not stored; use an ssh key (ssh-agent) for this remote'
        : 'the credentials in the URL were not stored; set PYCTL_GIT_TOKEN (or use a git credential helper) when you push or fetch',
    );
  }
  if (r.needsGitCli) ctx.note('this URL needs the git command (pyctl itself speaks HTTPS only), and git is not installed');
  if (transportKindOf(r.url) === 'http') ctx.note('warning: this is plain http://: the history, and any token sent to it, travel unencrypted; use https:// where the server offers it');
  return { text: `added remote ${name}: ${r.url}\n`, json: { name, url: r.url, strippedCredentials: r.strippedCredentials } };
}

export async function remoteRemove(ctx: Context, name: string): Promise<Output> {
  ctx.home.requireInitialized();
  await new Remotes(ctx.home.paths).remove(name);
  return { text: `removed remote ${name} and its fetched snapshots\n`, json: { name, removed: true } };
}

/** What the list says beside a URL about how pyctl reaches it (https: nothing to say). */
const TRANSPORT_NOTE: Record<TransportKind, string> = { https: '', http: '(plain http, unencrypted)', 'git-cli': '(via git)' };

export async function remoteList(ctx: Context): Promise<Output> {
  ctx.home.requireInitialized();
  const list = await new Remotes(ctx.home.paths).list();
  const { paint: p } = ctx;
  const w = Math.max(0, ...list.map((r) => r.name.length));
  const text = list.length
    ? list.map((r) => `${p.bold(r.name.padEnd(w))}  ${r.url}${TRANSPORT_NOTE[r.transport] ? p.dim(`  ${TRANSPORT_NOTE[r.transport]}`) : ''}`).join('\n') + '\n'
    : "no remotes; add one with 'pyctl remote add origin https://host/path/env.git'\n";
  return { text, json: list };
}
