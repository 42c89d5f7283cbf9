/**
 * Sharing the state repo through git remotes: add/remove/list remotes, push `main` with
 * snapshots (annotated tags), fetch a remote's snapshots into `refs/remotes/<remote>/tags/*`.
 * How bytes move is transport.ts's business; what to send is push-plan.ts's.
 *
 * Traps handled here (see the notes on isomorphic-git): fetch needs a configured remote; a remote
 * with tags but no branch breaks fetch, so push always sends `main` first and fetch refuses a
 * remote without `main`; remote tags are mirrored into their own namespace so local snapshot
 * names are left alone; a moved tag needs force.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { PyctlError, usage } from '../errors.js';
import { FREEZE_FILE, CONFIG_FILE, type HomePaths } from '../paths.js';
import { withLock } from '../gitstore/lock.js';
import { parseMessage } from '../gitstore/message.js';
import { gitCliAvailable } from './git-cli.js';
import { unknownRemote } from './hints.js';
import { LocalRepo } from './local.js';
import { maskSecrets, withoutSshPassword } from './mask.js';
import { planPush, refuseSecrets, secretFindings, snapshotsToPush, type MainStatus, type OutgoingText, type PushTagResult } from './push-plan.js';
import { BRANCH_REF, openTransport, transportKindOf, type RemoteTarget, type Transport, type TransportKind } from './transport.js';
import { splitUserinfo, urlKind, validRemoteName } from './url.js';

export { BRANCH_REF } from './transport.js';
export type { PushTagResult } from './push-plan.js';

/** Tracked files whose text a push checks for credentials. */
const SCANNED_FILES = [FREEZE_FILE, CONFIG_FILE];

export interface RemoteEntry {
  name: string;
  /** Masked for display. */
  url: string;
  transport: TransportKind;
}

export interface PushResult {
  remote: string;
  url: string;
  transport: TransportKind;
  /** `diverged`: the remote's main has history this home lacks; left alone (use --force). */
  main: MainStatus;
  tags: PushTagResult[];
  /** How many commits the secret check looked at. */
  checked: number;
}

export interface FetchTagResult {
  name: string;
  commit: string;
  status: 'new' | 'updated' | 'unchanged';
  /** A local snapshot of the same name exists with other content (it was kept). */
  conflictsWithLocal: boolean;
}
export interface FetchResult {
  remote: string;
  url: string;
  transport: TransportKind;
  main: string;
  tags: FetchTagResult[];
  removed: string[];
  /** False when the remote's main carries no pyctl operation trailers. */
  looksLikePyctl: boolean;
}

export class Remotes {
  readonly local: LocalRepo;
  /** `note`: where warnings go (credentials over plain http://, a replaced main). */
  constructor(
    readonly paths: HomePaths,
    private readonly note?: (line: string) => void,
  ) {
    this.local = new LocalRepo(paths);
  }

  async list(): Promise<RemoteEntry[]> {
    const git = await this.local.git();
    const all = await git.listRemotes({ ...this.local.base });
    return all.map((r) => ({ name: r.remote, url: maskSecrets(r.url), transport: transportKindOf(r.url) }));
  }

  /**
   * Add a remote. Credentials in an http(s) URL are not stored: the URL is saved without them
   * (`strippedCredentials` tells the caller to point the user at PYCTL_GIT_TOKEN).
   */
  async add(name: string, rawUrl: string): Promise<{ name: string; url: string; strippedCredentials: boolean; needsGitCli: boolean }> {
    if (!validRemoteName(name)) throw usage(`'${name}' is not a valid remote name`, 'use letters, digits, ., _ and - (e.g. origin)');
    const { url: cleanUrl, kind, stripped } = normalizeRemoteUrl(rawUrl);
    const git = await this.local.git();
    const existing = (await git.listRemotes({ ...this.local.base })).find((r) => r.remote === name);
    if (existing) {
      if (existing.url === cleanUrl) return { name, url: maskSecrets(cleanUrl), strippedCredentials: stripped, needsGitCli: false };
      throw new PyctlError('REMOTE', `a remote named '${name}' already exists (${maskSecrets(existing.url)})`, `run 'pyctl remote remove ${name}' first, or pick another name`);
    }
    await git.addRemote({ ...this.local.base, remote: name, url: cleanUrl });
    // Keep a plain `git fetch NAME` from adding the remote's tags to the local snapshot names.
    // (No `+refs/tags/*:refs/remotes/NAME/tags/*` refspec here: isomorphic-git would translate
    // the peeled `TAG^{}` entries too and fail; fetch() mirrors the tags itself.)
    await git.setConfig({ ...this.local.base, path: `remote.${name}.tagOpt`, value: '--no-tags' });
    const needsGitCli = kind !== 'http' && !(await gitCliAvailable());
    return { name, url: maskSecrets(cleanUrl), strippedCredentials: stripped, needsGitCli };
  }

  async remove(name: string): Promise<{ name: string; refs: number }> {
    const git = await this.local.git();
    const all = await git.listRemotes({ ...this.local.base });
    if (!all.some((r) => r.remote === name))
      throw unknownRemote(
        name,
        all.map((r) => r.remote),
      );
    const refs = await git.listRefs({ ...this.local.base, filepath: `refs/remotes/${name}` });
    for (const r of refs) await this.local.deleteRef(`refs/remotes/${name}/${r}`);
    await git.deleteRemote({ ...this.local.base, remote: name });
    return { name, refs: refs.length };
  }

  private async target(name: string, forPush: boolean): Promise<RemoteTarget> {
    const git = await this.local.git();
    const all = await git.listRemotes({ ...this.local.base });
    const found = all.find((r) => r.remote === name);
    if (!found)
      throw unknownRemote(
        name,
        all.map((r) => r.remote),
      );
    const pushUrl = forPush ? ((await git.getConfig({ ...this.local.base, path: `remote.${name}.pushurl` })) as string | undefined) : undefined;
    const configured = pushUrl ?? found.url;
    return { name, configured, kind: urlKind(configured) ?? 'file' };
  }

  /** `url`: use this URL for this run instead of the stored one (it may carry credentials). */
  private async open(name: string, forPush: boolean, url?: string): Promise<{ t: RemoteTarget; transport: Transport }> {
    const stored = await this.target(name, forPush);
    const t = url ? { ...stored, configured: url, kind: urlKind(url) ?? stored.kind } : stored;
    return { t, transport: await openTransport(t, this.local, this.paths, this.note) };
  }

  /** The refs at a URL that no remote names yet (init --from asks before making anything). */
  async probe(url: string): Promise<Map<string, string>> {
    const t: RemoteTarget = { name: 'origin', configured: url, kind: urlKind(url) ?? 'file' };
    return (await openTransport(t, this.local, this.paths, this.note)).listRefs(false);
  }

  /** The text of what a push would send that the remote lacks (commits' messages and files, tag messages). */
  private async outgoing(heads: string[], remoteHas: string[], tagOids: string[]): Promise<OutgoingText> {
    const git = await this.local.git();
    const base = this.local.base;
    const known = (await Promise.all(remoteHas.map(async (o) => ((await this.local.has(o)) ? this.local.peel(o) : null)))).filter((o): o is string => !!o);
    const stop = new Set(await this.local.reachable(known));
    const seenBlobs = new Set<string>();
    const out: OutgoingText = { commits: [], tags: [] };
    for (const oid of await this.local.reachable(heads, stop)) {
      const { commit } = await git.readCommit({ ...base, oid });
      const files: { name: string; text: string }[] = [];
      for (const name of SCANNED_FILES) {
        try {
          const r = await git.readBlob({ ...base, oid, filepath: name });
          if (seenBlobs.has(r.oid)) continue;
          seenBlobs.add(r.oid);
          files.push({ name, text: Buffer.from(r.blob).toString('utf8') });
        } catch {
          // not in this commit
        }
      }
      out.commits.push({ oid, op: parseMessage(commit.message).meta?.op, message: commit.message, files });
    }
    for (const t of tagOids) {
      if ((await git.readObject({ ...base, oid: t })).type !== 'tag') continue;
      const { tag } = await git.readTag({ ...base, oid: t });
      out.tags.push({ name: tag.tag, message: tag.message });
    }
    return out;
  }

  /**
   * Push `main` and snapshots. Default snapshots: every tag not under auto/. A snapshot that
   * exists on the remote with other content is refused unless force; nothing is sent then.
   * The remote's main is replaced only with forceMain (force is about snapshots alone).
   */
  async push(name: string, snapshots: string[], opts: { force?: boolean; forceMain?: boolean; allowSecrets?: boolean } = {}): Promise<PushResult> {
    const head = await this.local.resolve(BRANCH_REF);
    if (!head) throw new PyctlError('NOT_INITIALIZED', 'nothing is recorded yet', "run 'pyctl init'");
    const names = snapshotsToPush(snapshots, await this.local.tags());
    const { t, transport } = await this.open(name, true);
    const tags = await Promise.all(names.map(async (n) => ({ name: n, oid: (await this.local.resolve(`refs/tags/${n}`))! })));
    const remote = await transport.listRefs(true);
    const remoteMain = remote.get(BRANCH_REF);
    const plan = planPush({
      remoteName: name,
      head,
      tags,
      remote,
      remoteMainIsAncestor: !!remoteMain && (await this.local.isAncestor(remoteMain, head)),
      force: !!opts.force,
      forceMain: !!opts.forceMain,
    });

    // The secret check covers every commit the remote does not have yet.
    const sendTags = tags.filter((tg) => plan.updates.some((u) => u.ref === `refs/tags/${tg.name}`));
    const sendMain = plan.updates.some((u) => u.ref === BRANCH_REF);
    const heads = [...(sendMain ? [head] : []), ...(await Promise.all(sendTags.map((tg) => this.local.peel(tg.oid))))];
    const out = await this.outgoing(
      heads,
      [...remote.values()],
      sendTags.map((tg) => tg.oid),
    );
    const findings = secretFindings(out);
    if (findings.length && !opts.allowSecrets) throw refuseSecrets(findings);
    for (const f of findings) this.note?.(`pushing despite a possible credential (--allow-secrets): ${f}`);
    if (plan.main === 'replaced') {
      this.note?.(
        `warning: replacing ${name}'s main (--force-main): the history another machine pushed there, which this home does not have, is dropped from it (snapshots pushed with it keep theirs)`,
      );
    }

    await transport.push(plan.updates);
    // Keep the local view of the remote in step, so NAME/SNAPSHOT resolves right away.
    if (sendMain) await this.local.writeRef(`refs/remotes/${name}/main`, head);
    for (const tg of tags) await this.local.writeRef(`refs/remotes/${name}/tags/${tg.name}`, tg.oid);
    return { remote: name, url: maskSecrets(t.configured), transport: transport.kind, main: plan.main, tags: plan.tags, checked: out.commits.length };
  }

  /**
   * Bring a remote's history and snapshots in. Its main goes to refs/remotes/NAME/main, its
   * snapshots to refs/remotes/NAME/tags/* (resolvable as NAME/SNAPSHOT); local tags are never
   * touched, even when the remote has one of the same name with other content.
   */
  async fetch(name: string, opts: { locked?: boolean; url?: string } = {}): Promise<FetchResult> {
    const { t, transport } = await this.open(name, false, opts.url);
    const remote = await transport.listRefs(false);
    emptyOrForeign(remote, t.configured);
    const run = () => this.fetchLocked(t, transport, remote);
    return opts.locked ? run() : withLock(this.paths.lock, `pyctl fetch ${name}`, run, { note: this.note });
  }

  private async fetchLocked(t: RemoteTarget, transport: Transport, remote: Map<string, string>): Promise<FetchResult> {
    const git = await this.local.git();
    const name = t.name;
    const ns = `refs/remotes/${name}/tags`;
    const before = await this.local.refsUnder(ns);
    const localBefore = new Set(await this.local.tags());
    await transport.fetch(remote);

    const tags: FetchTagResult[] = [];
    for (const [r, oid] of [...(await this.local.refsUnder(ns))].sort(([a], [b]) => a.localeCompare(b))) {
      const local = localBefore.has(r) ? await this.local.resolve(`refs/tags/${r}`) : null;
      tags.push({
        name: r,
        commit: await this.local.peel(oid),
        status: !before.has(r) ? 'new' : before.get(r) === oid ? 'unchanged' : 'updated',
        conflictsWithLocal: !!local && local !== oid,
      });
    }
    const removed = [...before.keys()].filter((k) => !tags.some((tg) => tg.name === k));
    const main = (await this.local.resolve(`refs/remotes/${name}/main`))!;
    let looksLikePyctl = false;
    let n = 0;
    for (let oid: string | undefined = main; oid && n < 50 && !looksLikePyctl; n++) {
      const { commit } = await git.readCommit({ ...this.local.base, oid });
      looksLikePyctl = !!parseMessage(commit.message).meta;
      oid = commit.parent[0];
    }
    return { remote: name, url: maskSecrets(t.configured), transport: transport.kind, main, tags, removed, looksLikePyctl };
  }
}

/** Refuse a remote with nothing pyctl can fetch: empty, or without a main branch. */
export function emptyOrForeign(remote: Map<string, string>, configured: string): void {
  const url = maskSecrets(configured);
  if (remote.size === 0) {
    throw new PyctlError('REMOTE', `${url} is empty: nothing has been pushed to it yet`, 'push from the machine that has the environment first: pyctl push');
  }
  if (!remote.has(BRANCH_REF)) {
    throw new PyctlError('REMOTE', `${url} holds no pyctl history (it has no 'main' branch)`, 'check the URL; pyctl push sends the main branch along with the snapshots');
  }
}

/** A URL as a remote stores it: paths made absolute, http userinfo removed. */
export function normalizeRemoteUrl(rawUrl: string): { url: string; kind: NonNullable<ReturnType<typeof urlKind>>; stripped: boolean } {
  let url = rawUrl.trim();
  const kind = urlKind(url);
  if (!kind) throw usage(`'${maskSecrets(url)}' is not a URL pyctl can use`, 'use https://host/path/env.git (or an ssh/file URL if git is installed)');
  if (kind === 'file' && !/^file:/i.test(url)) url = resolve(url.replace(/^~(?=\/|$)/, homedir()));
  // http(s): user and password go (PYCTL_GIT_TOKEN instead); ssh: the login stays, a password never.
  const clean = kind === 'ssh' ? withoutSshPassword(url) : splitUserinfo(url).url;
  return { url: clean, kind, stripped: clean !== url };
}
