/**
 * Sharing the state repo through git remotes: add/remove/list remotes, push `main` with
 * snapshots (annotated tags), fetch a remote's snapshots into `refs/remotes/<remote>/tags/*`.
 *
 * Transport: isomorphic-git's smart HTTP(S). ssh and file/path URLs fall back to the git CLI when
 * it is installed. Credentials come from PYCTL_GIT_TOKEN / GIT_TOKEN, the URL's userinfo (for
 * remotes added with plain git), or `git credential fill`; they live only in memory and every
 * message that carries a URL goes through maskSecrets.
 *
 * Traps handled here (see the notes on isomorphic-git): fetch needs a configured remote; a remote
 * with tags but no branch breaks fetch, so push always sends `main` first and fetch refuses a
 * remote without `main`; fetch never updates existing local tags, so remote tags are mirrored into
 * their own namespace and local snapshot names are left alone; a moved tag needs force.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { PyctlError, usage } from '../errors.js';
import { runProgram } from '../proc.js';
import { FREEZE_FILE, CONFIG_FILE, type HomePaths } from '../paths.js';
import { fs, loadGit, loadHttp, type Git } from '../gitstore/git.js';
import { withLock } from '../gitstore/lock.js';
import { maskSecrets, looksSecret, withoutSshPassword } from './mask.js';
import { parseMessage } from '../gitstore/message.js';

export const BRANCH_REF = 'refs/heads/main';
const ZERO = '0000000000000000000000000000000000000000';
/** Snapshots under this prefix are pyctl's own automatic ones: not pushed unless named. */
const AUTO_PREFIX = 'auto/';
/**
 * Not pushed unless named either: `pyctl init` tags its own first state `baseline` on every
 * machine, so a second machine pushing it would always collide with the first one's.
 */
const MACHINE_TAGS = ['baseline'];

export type UrlKind = 'http' | 'ssh' | 'file' | 'git';

export function urlKind(url: string): UrlKind | null {
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(url)) return 'ssh';
  if (/^git:\/\//i.test(url)) return 'git';
  if (/^file:\/\//i.test(url) || url.startsWith('/') || url.startsWith('./') || url.startsWith('../') || url.startsWith('~')) return 'file';
  // scp-like: [user@]host:path (not a Windows drive letter, no scheme).
  if (/^([^@/:\s]+@)?[A-Za-z0-9.-]{2,}:(?!\/\/)\S*$/.test(url)) return 'ssh';
  return null;
}

/** An http(s) URL without its userinfo, and the userinfo it had. */
export function splitUserinfo(url: string): { url: string; username?: string; password?: string } {
  if (urlKind(url) !== 'http') return { url };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  if (!username && !password) return { url };
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, url.endsWith('/') ? '/' : ''), username, password };
}

export function validRemoteName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) && !name.includes('..') && !name.endsWith('.lock');
}

export interface RemoteEntry {
  name: string;
  /** Masked for display. */
  url: string;
  transport: 'https' | 'git-cli';
}

export interface PushTagResult {
  name: string;
  status: 'pushed' | 'up-to-date' | 'replaced';
}
export interface PushResult {
  remote: string;
  url: string;
  transport: 'https' | 'git-cli';
  /** `diverged`: the remote's main has history this home lacks; left alone (use --force). */
  main: 'pushed' | 'up-to-date' | 'replaced' | 'diverged';
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
  transport: 'https' | 'git-cli';
  main: string;
  tags: FetchTagResult[];
  removed: string[];
  /** False when the remote's main carries no pyctl operation trailers. */
  looksLikePyctl: boolean;
}

export interface RemoteSnapshot {
  name: string;
  commit: string;
  message: string;
  time: number;
  packages: number;
  /** The Python it was recorded with (the commit's Pyctl-Python trailer). */
  python?: string;
}

// ---------------------------------------------------------------------------------------------
// The git CLI (fallback transport and credential helper).

let gitCli: Promise<boolean> | undefined;
export function gitCliAvailable(): Promise<boolean> {
  return (gitCli ??= (async () => {
    try {
      const r = await runProgram('git', ['--version'], { timeout: 10_000 });
      return r.exitCode === 0;
    } catch {
      return false;
    }
  })());
}

async function runGit(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}) {
  return runProgram('git', args, {
    input: opts.input,
    cwd: opts.cwd,
    env: { GIT_TERMINAL_PROMPT: process.stdin.isTTY ? '1' : '0', ...opts.env },
    stdin: opts.input === undefined ? (process.stdin.isTTY ? 'inherit' : 'ignore') : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Credentials: tried in order after a 401, never stored, never printed.

interface Creds {
  username: string;
  password: string;
}
interface CredSource {
  label: string;
  get(): Promise<Creds | null>;
  approve?(c: Creds): Promise<void>;
  reject?(c: Creds): Promise<void>;
}

function credentialSources(cleanUrl: string, userinfo: { username?: string; password?: string }, env: NodeJS.ProcessEnv): CredSource[] {
  const sources: CredSource[] = [];
  const tokenUser = env.PYCTL_GIT_USER || userinfo.username || 'x-access-token';
  for (const name of ['PYCTL_GIT_TOKEN', 'GIT_TOKEN'] as const) {
    const token = env[name];
    if (token) sources.push({ label: `the token in $${name}`, get: async () => ({ username: tokenUser, password: token }) });
  }
  if (userinfo.username || userinfo.password) {
    sources.push({
      label: "the credentials in the remote's URL",
      get: async () => ({ username: userinfo.username ?? tokenUser, password: userinfo.password ?? '' }),
    });
  }
  const u = new URL(cleanUrl);
  const query = () =>
    `protocol=${u.protocol.replace(':', '')}\nhost=${u.host}\npath=${u.pathname.replace(/^\//, '')}\n` + (userinfo.username ? `username=${userinfo.username}\n` : '');
  const helper = (cmd: 'approve' | 'reject') => async (c: Creds) => {
    await runGit(['credential', cmd], { input: `${query()}username=${c.username}\npassword=${c.password}\n\n` });
  };
  sources.push({
    label: 'git credential fill',
    async get() {
      if (!(await gitCliAvailable())) return null;
      const r = await runGit(['credential', 'fill'], { input: query() + '\n' });
      if (r.exitCode !== 0) return null;
      const f = Object.fromEntries(String(r.stdout).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      return f.password ? { username: f.username ?? tokenUser, password: f.password } : null;
    },
    approve: helper('approve'),
    reject: helper('reject'),
  });
  return sources;
}

interface Auth {
  onAuth: (url: string) => Promise<Creds | { cancel: true }>;
  onAuthFailure: (url: string) => Promise<Creds | { cancel: true }>;
  onAuthSuccess: () => Promise<void>;
  /** Labels of the sources that were tried and refused. */
  tried: string[];
  asked: boolean;
}

function makeAuth(cleanUrl: string, userinfo: { username?: string; password?: string }): Auth {
  const sources = credentialSources(cleanUrl, userinfo, process.env);
  let i = 0;
  let current: { src: CredSource; creds: Creds } | undefined;
  const auth: Auth = {
    tried: [],
    asked: false,
    async onAuth() {
      auth.asked = true;
      // Remember what worked for this run: later requests (the pack) reuse it.
      if (current) return current.creds;
      return next();
    },
    async onAuthFailure() {
      if (current) {
        auth.tried.push(current.src.label);
        await current.src.reject?.(current.creds).catch(() => {});
        current = undefined;
      }
      return next();
    },
    async onAuthSuccess() {
      if (current) await current.src.approve?.(current.creds).catch(() => {});
    },
  };
  async function next(): Promise<Creds | { cancel: true }> {
    while (i < sources.length) {
      const src = sources[i++];
      const creds = await src.get();
      if (creds) {
        current = { src, creds };
        return creds;
      }
    }
    return { cancel: true };
  }
  return auth;
}

// ---------------------------------------------------------------------------------------------
// Errors: one line, masked, with a hint; nothing changed locally.

function remoteError(e: unknown, ctx: { url: string; name: string; op: 'push' | 'fetch' | 'list'; auth?: Auth }): PyctlError {
  if (e instanceof PyctlError) return e;
  const err = e as { code?: string; message?: string; data?: { statusCode?: number; statusMessage?: string; prettyDetails?: string; reason?: string } };
  const url = maskSecrets(ctx.url);
  const code = err.code ?? '';
  const netCodes: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPIPE: 'connection closed',
  };
  if (netCodes[code]) {
    return new PyctlError('REMOTE', `cannot reach ${url}: ${netCodes[code]}`, "check the network and the URL ('pyctl remote list'); nothing was changed");
  }
  if (/CERT|SSL|TLS/.test(code)) {
    return new PyctlError('REMOTE', `cannot reach ${url}: TLS certificate problem (${code})`, 'the server certificate is not trusted; set NODE_EXTRA_CA_CERTS to your CA bundle');
  }
  const status = err.data?.statusCode;
  if (code === 'UserCanceledError' || status === 401) {
    if (ctx.auth?.tried.length) {
      return new PyctlError(
        'REMOTE',
        `${url} refused ${ctx.auth.tried.join(', then ')} (HTTP 401)`,
        'check the token and that it may ' + (ctx.op === 'push' ? 'write to' : 'read') + ' this repository (PYCTL_GIT_USER sets the user name sent with it)',
      );
    }
    return new PyctlError('REMOTE', `${url} needs authentication (HTTP 401)`, 'set PYCTL_GIT_TOKEN to an access token (or configure a git credential helper) and run again');
  }
  if (status === 403) {
    return new PyctlError('REMOTE', `${url} denied access (HTTP 403)`, `the credentials may not ${ctx.op === 'push' ? 'push to' : 'read'} this repository; check the token's permissions`);
  }
  if (status === 404) {
    return new PyctlError('REMOTE', `no git repository at ${url} (HTTP 404)`, "check the URL ('pyctl remote list'); create the repository on the server first (an empty one is fine)");
  }
  if (code === 'SmartHttpError' || code === 'ParseError') {
    return new PyctlError('REMOTE', `${url} is not a git repository (the server did not answer as git does)`, 'check the URL: it must be the repository URL, often ending in .git');
  }
  if (status) {
    return new PyctlError('REMOTE', `${url} answered HTTP ${status} ${err.data?.statusMessage ?? ''}`.trim(), 'try again later; nothing was changed');
  }
  if (code === 'GitPushError') {
    const details = (err.data?.prettyDetails ?? '').replace(/\s+/g, ' ').trim();
    return new PyctlError('REMOTE', maskSecrets(`${url} rejected the push: ${details}`), 'the server refused the update (branch protection or a hook?); nothing was changed locally');
  }
  if (code === 'PushRejectedError') {
    return new PyctlError('REMOTE', `${url} rejected the push: ${err.data?.reason ?? 'not a fast-forward'}`, "run 'pyctl fetch' to see what is there, or push with --force to replace it");
  }
  return new PyctlError('REMOTE', maskSecrets(`${ctx.op} ${url} failed: ${err.message ?? String(e)}`).split('\n')[0], 'run again with --verbose for details; nothing was changed');
}

function cliError(stderr: string, ctx: { url: string; op: 'push' | 'fetch' | 'list' }): PyctlError {
  const line =
    String(stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^(hint|To |From )/.test(l))
      .find((l) => /^(fatal|error|remote|!)/.test(l)) ?? String(stderr).trim().split('\n')[0] ?? 'unknown error';
  const msg = maskSecrets(line.replace(/^(fatal|error): /, ''));
  let hint = 'check the URL and your ssh keys or access rights; nothing was changed';
  if (/does not appear to be a git repository|not found|does not exist/i.test(msg)) hint = "check the URL ('pyctl remote list'); create the repository first (an empty bare one is fine)";
  if (/rejected|non-fast-forward|already exists/i.test(msg)) hint = "run 'pyctl fetch' to see what is there, or push with --force to replace it";
  return new PyctlError('REMOTE', `git ${ctx.op} ${maskSecrets(ctx.url)} failed: ${msg}`, hint);
}

// ---------------------------------------------------------------------------------------------

interface Target {
  name: string;
  /** As configured (may hold userinfo: never print it unmasked). */
  configured: string;
  /** Without userinfo: what isomorphic-git is given. */
  url: string;
  kind: UrlKind;
  transport: 'https' | 'git-cli';
  auth?: Auth;
}

export class Remotes {
  private gitMod?: Git;
  constructor(readonly paths: HomePaths) {}

  private async git(): Promise<Git> {
    return (this.gitMod ??= await loadGit());
  }
  private get base() {
    return { fs, dir: this.paths.home, gitdir: this.paths.gitDir };
  }

  async list(): Promise<RemoteEntry[]> {
    const git = await this.git();
    const all = await git.listRemotes({ ...this.base });
    return all.map((r) => ({ name: r.remote, url: maskSecrets(r.url), transport: urlKind(r.url) === 'http' ? 'https' : 'git-cli' }));
  }

  /**
   * Add a remote. Credentials in an http(s) URL are not stored: the URL is saved without them
   * (`strippedCredentials` tells the caller to point the user at PYCTL_GIT_TOKEN).
   */
  async add(name: string, rawUrl: string): Promise<{ name: string; url: string; strippedCredentials: boolean; needsGitCli: boolean }> {
    if (!validRemoteName(name)) throw usage(`'${name}' is not a valid remote name`, 'use letters, digits, ., _ and - (e.g. origin)');
    let url = rawUrl.trim();
    const kind = urlKind(url);
    if (!kind) throw usage(`'${maskSecrets(url)}' is not a URL pyctl can use`, 'use https://host/path/env.git (or an ssh/file URL if git is installed)');
    if (kind === 'file' && !/^file:/i.test(url)) url = resolve(url.replace(/^~(?=\/|$)/, homedir()));
    // http(s): user and password go (PYCTL_GIT_TOKEN instead); ssh: the login stays, a password never.
    const split = kind === 'ssh' ? { url: withoutSshPassword(url) } : splitUserinfo(url);
    const stripped = split.url !== url;
    const git = await this.git();
    const existing = (await git.listRemotes({ ...this.base })).find((r) => r.remote === name);
    if (existing) {
      if (existing.url === split.url) return { name, url: maskSecrets(split.url), strippedCredentials: stripped, needsGitCli: false };
      throw new PyctlError('REMOTE', `a remote named '${name}' already exists (${maskSecrets(existing.url)})`, `run 'pyctl remote remove ${name}' first, or pick another name`);
    }
    await git.addRemote({ ...this.base, remote: name, url: split.url });
    // Keep a plain `git fetch NAME` from adding the remote's tags to the local snapshot names.
    // (No `+refs/tags/*:refs/remotes/NAME/tags/*` refspec here: isomorphic-git would translate
    // the peeled `TAG^{}` entries too and fail; fetch() mirrors the tags itself.)
    await git.setConfig({ ...this.base, path: `remote.${name}.tagOpt`, value: '--no-tags' });
    const needsGitCli = kind !== 'http' && !(await gitCliAvailable());
    return { name, url: maskSecrets(split.url), strippedCredentials: stripped, needsGitCli };
  }

  async remove(name: string): Promise<{ name: string; refs: number }> {
    const git = await this.git();
    const all = await git.listRemotes({ ...this.base });
    if (!all.some((r) => r.remote === name)) throw unknownRemote(name, all.map((r) => r.remote));
    const refs = await git.listRefs({ ...this.base, filepath: `refs/remotes/${name}` });
    for (const r of refs) await git.deleteRef({ ...this.base, ref: `refs/remotes/${name}/${r}` }).catch(() => {});
    await git.deleteRemote({ ...this.base, remote: name });
    return { name, refs: refs.length };
  }

  private async target(name: string, forPush: boolean): Promise<Target> {
    const git = await this.git();
    const all = await git.listRemotes({ ...this.base });
    const found = all.find((r) => r.remote === name);
    if (!found) throw unknownRemote(name, all.map((r) => r.remote));
    const pushUrl = forPush ? ((await git.getConfig({ ...this.base, path: `remote.${name}.pushurl` })) as string | undefined) : undefined;
    const configured = pushUrl ?? found.url;
    const kind = urlKind(configured) ?? 'file';
    if (kind === 'http') {
      const split = splitUserinfo(configured);
      return { name, configured, url: split.url, kind, transport: 'https', auth: makeAuth(split.url, split) };
    }
    if (!(await gitCliAvailable())) {
      throw new PyctlError(
        'REMOTE',
        `remote '${name}' (${maskSecrets(configured)}) is not an https:// URL, and the git command it would need is not installed`,
        `install git, or use an https URL: pyctl remote remove ${name} && pyctl remote add ${name} https://...`,
      );
    }
    return { name, configured, url: configured, kind, transport: 'git-cli' };
  }

  /** The remote's refs (full name -> oid; annotated tags: the tag object). */
  private async serverRefs(t: Target, forPush: boolean, op: 'push' | 'fetch' | 'list'): Promise<Map<string, string>> {
    const refs = new Map<string, string>();
    if (t.transport === 'https') {
      const git = await this.git();
      const http = await loadHttp();
      try {
        const list = await git.listServerRefs({ http, url: t.url, forPush, protocolVersion: 1, ...authOpts(t) });
        for (const r of list) if (r.oid !== ZERO && r.ref.startsWith('refs/')) refs.set(r.ref, r.oid);
      } catch (e) {
        throw remoteError(e, { url: t.configured, name: t.name, op, auth: t.auth });
      }
      return refs;
    }
    const r = await runGit(['ls-remote', '--', t.name], { cwd: this.paths.home });
    if (r.exitCode !== 0) throw cliError(String(r.stderr), { url: t.configured, op });
    for (const line of String(r.stdout).split('\n')) {
      const [oid, ref] = line.split('\t');
      if (oid && ref && !ref.endsWith('^{}') && ref.startsWith('refs/')) refs.set(ref, oid);
    }
    return refs;
  }

  private async resolve(ref: string): Promise<string | null> {
    const git = await this.git();
    try {
      return await git.resolveRef({ ...this.base, ref });
    } catch {
      return null;
    }
  }

  private async has(oid: string): Promise<boolean> {
    const git = await this.git();
    try {
      await git.readObject({ ...this.base, oid, format: 'deflated' });
      return true;
    } catch {
      return false;
    }
  }

  /** A ref's commit: peel annotated tags. */
  private async peel(oid: string): Promise<string> {
    const git = await this.git();
    let cur = oid;
    for (let i = 0; i < 10; i++) {
      const o = await git.readObject({ ...this.base, oid: cur });
      if (o.type !== 'tag') return cur;
      const { tag } = await git.readTag({ ...this.base, oid: cur });
      cur = tag.object;
    }
    return cur;
  }

  private async isAncestor(ancestor: string, oid: string): Promise<boolean> {
    if (ancestor === oid) return true;
    if (!(await this.has(ancestor))) return false;
    const git = await this.git();
    try {
      return await git.isDescendent({ ...this.base, oid, ancestor, depth: -1 });
    } catch {
      return false;
    }
  }

  /** Every commit reachable from `from`, all parents. */
  private async reachable(from: string[], stop: Set<string> = new Set()): Promise<string[]> {
    const git = await this.git();
    const seen = new Set<string>();
    const out: string[] = [];
    const queue = [...from];
    while (queue.length) {
      const oid = queue.pop()!;
      if (seen.has(oid) || stop.has(oid)) continue;
      seen.add(oid);
      let parents: string[];
      try {
        parents = (await git.readCommit({ ...this.base, oid })).commit.parent;
      } catch {
        continue; // not here (a remote tip we never fetched)
      }
      out.push(oid);
      queue.push(...parents);
    }
    return out;
  }

  /**
   * Look for credentials in what a push would send: freeze.txt and config.toml lines, commit
   * messages, tag messages. Returns masked findings, oldest commit last.
   */
  async secretFindings(heads: string[], remoteHas: string[], tagOids: string[]): Promise<{ findings: string[]; checked: number }> {
    const git = await this.git();
    const stop = new Set(await this.reachable((await Promise.all(remoteHas.map(async (o) => ((await this.has(o)) ? this.peel(o) : null)))).filter((o): o is string => !!o)));
    const commits = await this.reachable(heads, stop);
    const findings: string[] = [];
    const seenBlobs = new Set<string>();
    for (const oid of commits) {
      const { commit } = await git.readCommit({ ...this.base, oid });
      const parsed = parseMessage(commit.message);
      const what = `commit ${oid.slice(0, 7)}${parsed.meta ? ` (operation ${parsed.meta.op})` : ''}`;
      commit.message.split('\n').forEach((l, i) => {
        if (looksSecret(l)) findings.push(`${what} message line ${i + 1}: ${maskSecrets(l).trim()}`);
      });
      for (const file of [FREEZE_FILE, CONFIG_FILE]) {
        let blobOid: string;
        let text: string;
        try {
          const r = await git.readBlob({ ...this.base, oid, filepath: file });
          blobOid = r.oid;
          if (seenBlobs.has(blobOid)) continue;
          seenBlobs.add(blobOid);
          text = Buffer.from(r.blob).toString('utf8');
        } catch {
          continue;
        }
        text.split('\n').forEach((l, i) => {
          if (looksSecret(l)) findings.push(`${what} ${file} line ${i + 1}: ${maskSecrets(l).trim()}`);
        });
      }
    }
    for (const t of tagOids) {
      const o = await git.readObject({ ...this.base, oid: t });
      if (o.type !== 'tag') continue;
      const { tag } = await git.readTag({ ...this.base, oid: t });
      tag.message.split('\n').forEach((l, i) => {
        if (looksSecret(l)) findings.push(`snapshot ${tag.tag} message line ${i + 1}: ${maskSecrets(l).trim()}`);
      });
    }
    return { findings, checked: commits.length };
  }

  /**
   * Push `main` and snapshots. Default snapshots: every tag not under auto/. A snapshot that
   * exists on the remote with other content is refused unless force; nothing is sent then.
   */
  async push(name: string, snapshots: string[], opts: { force?: boolean; allowSecrets?: boolean; note?: (l: string) => void } = {}): Promise<PushResult> {
    const git = await this.git();
    const head = await this.resolve(BRANCH_REF);
    if (!head) throw new PyctlError('NOT_INITIALIZED', 'nothing is recorded yet', "run 'pyctl init'");
    const localTags = await git.listTags({ ...this.base });
    const names = snapshots.length ? [...new Set(snapshots)] : localTags.filter((t) => !t.startsWith(AUTO_PREFIX) && !MACHINE_TAGS.includes(t));
    const missing = names.filter((n) => !localTags.includes(n));
    if (missing.length) {
      throw new PyctlError('UNKNOWN_SNAPSHOT', `no snapshot named '${missing[0]}'`, "see 'pyctl list-snapshots'; push without names sends all snapshots");
    }
    const t = await this.target(name, true);
    const tags = await Promise.all(names.map(async (n) => ({ name: n, oid: (await this.resolve(`refs/tags/${n}`))! })));

    const remote = await this.serverRefs(t, true, 'push');
    // Plan: main first (a remote must never hold tags without a branch), then the tags.
    const remoteMain = remote.get(BRANCH_REF);
    let main: PushResult['main'];
    if (!remoteMain) main = 'pushed';
    else if (remoteMain === head) main = 'up-to-date';
    else if (await this.isAncestor(remoteMain, head)) main = 'pushed';
    else main = opts.force ? 'replaced' : 'diverged';

    const conflicts: string[] = [];
    const tagPlan: PushTagResult[] = [];
    for (const tg of tags) {
      const there = remote.get(`refs/tags/${tg.name}`);
      if (!there) tagPlan.push({ name: tg.name, status: 'pushed' });
      else if (there === tg.oid) tagPlan.push({ name: tg.name, status: 'up-to-date' });
      else if (opts.force) tagPlan.push({ name: tg.name, status: 'replaced' });
      else conflicts.push(tg.name);
    }
    if (conflicts.length) {
      const list = conflicts.map((c) => `'${c}'`).join(', ');
      throw new PyctlError(
        'REMOTE',
        `snapshot${conflicts.length > 1 ? 's' : ''} ${list} already exist${conflicts.length > 1 ? '' : 's'} on ${name} with other content; nothing was pushed`,
        `'pyctl fetch ${name}' and 'pyctl diff ${name}/${conflicts[0]} ${conflicts[0]}' show the difference; --force replaces the remote one; or snapshot under another name`,
      );
    }

    // The secret check covers every commit the remote does not have yet.
    const sendMain = main === 'pushed' || main === 'replaced';
    const sendTags = tags.filter((tg) => tagPlan.find((p) => p.name === tg.name)!.status !== 'up-to-date');
    const heads = [...(sendMain ? [head] : []), ...(await Promise.all(sendTags.map((tg) => this.peel(tg.oid))))];
    const { findings, checked } = await this.secretFindings(heads, [...remote.values()], sendTags.map((tg) => tg.oid));
    if (findings.length && !opts.allowSecrets) {
      const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
      throw new PyctlError(
        'REMOTE',
        `refusing to push what looks like a credential: ${findings[0]}${more}`,
        'it is in the recorded history; if it is a real secret, rotate it and do not push this history; --allow-secrets pushes anyway',
      );
    }
    if (findings.length) for (const f of findings) opts.note?.(`pushing despite a possible credential (--allow-secrets): ${f}`);

    if (t.transport === 'https') {
      const http = await loadHttp();
      const one = async (ref: string, force: boolean) => {
        try {
          await git.push({ ...this.base, http, remote: name, url: t.url, ref, remoteRef: ref, force, ...authOpts(t) });
        } catch (e) {
          throw remoteError(e, { url: t.configured, name, op: 'push', auth: t.auth });
        }
      };
      if (sendMain) await one(BRANCH_REF, main === 'replaced');
      for (const tg of sendTags) await one(`refs/tags/${tg.name}`, tagPlan.find((p) => p.name === tg.name)!.status === 'replaced');
    } else if (sendMain || sendTags.length) {
      const specs = [
        ...(sendMain ? [`${main === 'replaced' ? '+' : ''}${BRANCH_REF}:${BRANCH_REF}`] : []),
        ...sendTags.map((tg) => `${tagPlan.find((p) => p.name === tg.name)!.status === 'replaced' ? '+' : ''}refs/tags/${tg.name}:refs/tags/${tg.name}`),
      ];
      const r = await runGit(['push', '--porcelain', '--', name, ...specs], { cwd: this.paths.home });
      if (r.exitCode !== 0) throw cliError(String(r.stderr) || String(r.stdout), { url: t.configured, op: 'push' });
    }
    // Keep the local view of the remote in step, so NAME/SNAPSHOT resolves right away.
    if (sendMain) await git.writeRef({ ...this.base, ref: `refs/remotes/${name}/main`, value: head, force: true });
    for (const tg of tags) await git.writeRef({ ...this.base, ref: `refs/remotes/${name}/tags/${tg.name}`, value: tg.oid, force: true });
    return { remote: name, url: maskSecrets(t.configured), transport: t.transport, main, tags: tagPlan, checked };
  }

  /**
   * Bring a remote's history and snapshots in. Its main goes to refs/remotes/NAME/main, its
   * snapshots to refs/remotes/NAME/tags/* (resolvable as NAME/SNAPSHOT); local tags are never
   * touched, even when the remote has one of the same name with other content.
   */
  async fetch(name: string): Promise<FetchResult> {
    const t = await this.target(name, false);
    const remote = await this.serverRefs(t, false, 'fetch');
    const url = maskSecrets(t.configured);
    if (remote.size === 0) {
      throw new PyctlError('REMOTE', `${url} is empty: nothing has been pushed to it yet`, 'push from the machine that has the environment first: pyctl push');
    }
    if (!remote.has(BRANCH_REF)) {
      throw new PyctlError('REMOTE', `${url} holds no pyctl history (it has no 'main' branch)`, 'check the URL; pyctl push sends the main branch along with the snapshots');
    }
    return withLock(this.paths.lock, `pyctl fetch ${name}`, () => this.fetchLocked(t, remote));
  }

  private async fetchLocked(t: Target, remote: Map<string, string>): Promise<FetchResult> {
    const git = await this.git();
    const name = t.name;
    const ns = `refs/remotes/${name}/tags`;
    const before = new Map<string, string>();
    for (const r of await git.listRefs({ ...this.base, filepath: ns })) before.set(r, (await this.resolve(`${ns}/${r}`))!);
    const localBefore = new Set(await git.listTags({ ...this.base }));

    if (t.transport === 'https') {
      const http = await loadHttp();
      try {
        // tags: true so the snapshots' objects come along; the local tags it creates are moved
        // into the remote's namespace below (existing local tags are never updated by it).
        await git.fetch({ ...this.base, http, remote: name, url: t.url, ref: 'main', remoteRef: BRANCH_REF, tags: true, singleBranch: false, ...authOpts(t) });
      } catch (e) {
        // Trap: when the server's HEAD names an unborn branch (HEAD -> master, only main pushed),
        // isomorphic-git throws "Could not find HEAD" at the very end, after it has stored the
        // objects and refs. Everything needed is there: carry on.
        const err = e as { code?: string; data?: { what?: string } };
        if (!(err.code === 'NotFoundError' && err.data?.what === 'HEAD')) {
          await this.dropNewTags(localBefore);
          throw remoteError(e, { url: t.configured, name, op: 'fetch', auth: t.auth });
        }
      }
      await this.dropNewTags(localBefore);
      for (const [ref, oid] of remote) {
        // Only what arrived: a tag moved on the server since the listing is picked up next time.
        if (ref.startsWith('refs/tags/') && (await this.has(oid))) await git.writeRef({ ...this.base, ref: `${ns}/${ref.slice(10)}`, value: oid, force: true });
      }
      await git.writeRef({ ...this.base, ref: `refs/remotes/${name}/main`, value: remote.get(BRANCH_REF)!, force: true });
      for (const old of before.keys()) if (!remote.has(`refs/tags/${old}`)) await git.deleteRef({ ...this.base, ref: `${ns}/${old}` });
    } else {
      const r = await runGit(['fetch', '--no-tags', '--prune', '--', name, `+${BRANCH_REF}:refs/remotes/${name}/main`, `+refs/tags/*:${ns}/*`], { cwd: this.paths.home });
      if (r.exitCode !== 0) throw cliError(String(r.stderr), { url: t.configured, op: 'fetch' });
    }

    const tags: FetchTagResult[] = [];
    for (const r of (await git.listRefs({ ...this.base, filepath: ns })).sort()) {
      const oid = (await this.resolve(`${ns}/${r}`))!;
      const local = localBefore.has(r) ? await this.resolve(`refs/tags/${r}`) : null;
      tags.push({
        name: r,
        commit: await this.peel(oid),
        status: !before.has(r) ? 'new' : before.get(r) === oid ? 'unchanged' : 'updated',
        conflictsWithLocal: !!local && local !== oid,
      });
    }
    const removed = [...before.keys()].filter((k) => !tags.some((tg) => tg.name === k));
    const main = (await this.resolve(`refs/remotes/${name}/main`))!;
    let looksLikePyctl = false;
    let n = 0;
    for (let oid: string | undefined = main; oid && n < 50 && !looksLikePyctl; n++) {
      const { commit } = await git.readCommit({ ...this.base, oid });
      looksLikePyctl = !!parseMessage(commit.message).meta;
      oid = commit.parent[0];
    }
    return { remote: name, url: maskSecrets(t.configured), transport: t.transport, main, tags, removed, looksLikePyctl };
  }

  /** Remove local tags a fetch created (they belong in the remote's namespace). */
  private async dropNewTags(localBefore: Set<string>): Promise<void> {
    const git = await this.git();
    for (const tg of await git.listTags({ ...this.base })) {
      if (!localBefore.has(tg)) await git.deleteRef({ ...this.base, ref: `refs/tags/${tg}` }).catch(() => {});
    }
  }

  /** The remote's snapshots as last fetched (run fetch first), newest first. */
  async listRemoteSnapshots(name: string): Promise<RemoteSnapshot[]> {
    const git = await this.git();
    const all = await git.listRemotes({ ...this.base });
    if (!all.some((r) => r.remote === name)) throw unknownRemote(name, all.map((r) => r.remote));
    const ns = `refs/remotes/${name}/tags`;
    const out: RemoteSnapshot[] = [];
    for (const r of await git.listRefs({ ...this.base, filepath: ns })) {
      const oid = (await this.resolve(`${ns}/${r}`))!;
      const o = await git.readObject({ ...this.base, oid });
      let commit = oid;
      let message = '';
      let time = 0;
      if (o.type === 'tag') {
        const { tag } = await git.readTag({ ...this.base, oid });
        commit = tag.object;
        message = tag.message.trim();
        time = tag.tagger.timestamp;
      } else {
        time = (await git.readCommit({ ...this.base, oid })).commit.committer.timestamp;
      }
      let packages = 0;
      const python = pythonOf((await git.readCommit({ ...this.base, oid: commit })).commit.message);
      try {
        const { blob } = await git.readBlob({ ...this.base, oid: commit, filepath: FREEZE_FILE });
        packages = Buffer.from(blob).toString('utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
      } catch {
        // A snapshot without freeze.txt: zero packages.
      }
      out.push({ name: r, commit, message, time, packages, ...(python ? { python } : {}) });
    }
    return out.sort((a, b) => b.time - a.time || a.name.localeCompare(b.name));
  }
}

function authOpts(t: Target) {
  if (!t.auth) return {};
  return { onAuth: t.auth.onAuth, onAuthFailure: t.auth.onAuthFailure, onAuthSuccess: t.auth.onAuthSuccess };
}

function unknownRemote(name: string, known: string[]): PyctlError {
  return new PyctlError(
    'REMOTE',
    `no remote named '${name}'`,
    known.length ? `known remotes: ${known.join(', ')}` : `add one first: pyctl remote add ${name} https://host/path/env.git`,
  );
}

/** The Python version a commit was recorded with (its Pyctl-Python trailer). */
export function pythonOf(message: string): string | undefined {
  return parseMessage(message).meta?.python;
}
