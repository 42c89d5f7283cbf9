/**
 * The credential chain for http(s) remotes, tried in order after a 401: PYCTL_GIT_TOKEN /
 * GIT_TOKEN, the URL's userinfo (remotes added with plain git), then `git credential fill`.
 * Credentials live only in memory; what worked is approved to the helper, what failed rejected.
 */
import { gitCliAvailable, runGit } from './git-cli.js';
import type { Userinfo } from './url.js';

export interface Creds {
  username: string;
  password: string;
}
interface CredSource {
  label: string;
  /** What is sent, in words, when the label does not say it. */
  sends?: string;
  get(): Promise<Creds | null>;
  approve?(c: Creds): Promise<void>;
  reject?(c: Creds): Promise<void>;
}

export interface Auth {
  onAuth: (url: string) => Promise<Creds | { cancel: true }>;
  onAuthFailure: (url: string) => Promise<Creds | { cancel: true }>;
  onAuthSuccess: () => Promise<void>;
  /** Labels of the sources that were tried and refused. */
  tried: string[];
  asked: boolean;
}

function credentialSources(cleanUrl: string, userinfo: Userinfo, env: NodeJS.ProcessEnv): CredSource[] {
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
  const query = () => `protocol=${u.protocol.replace(':', '')}\nhost=${u.host}\npath=${u.pathname.replace(/^\//, '')}\n` + (userinfo.username ? `username=${userinfo.username}\n` : '');
  const helper = (cmd: 'approve' | 'reject') => async (c: Creds) => {
    await runGit(['credential', cmd], { input: `${query()}username=${c.username}\npassword=${c.password}\n\n` });
  };
  sources.push({
    label: 'git credential fill',
    sends: "the credentials from 'git credential fill'",
    async get() {
      if (!(await gitCliAvailable())) return null;
      const r = await runGit(['credential', 'fill'], { input: query() + '\n' });
      if (r.exitCode !== 0) return null;
      const f = Object.fromEntries(
        String(r.stdout)
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      return f.password ? { username: f.username ?? tokenUser, password: f.password } : null;
    },
    approve: helper('approve'),
    reject: helper('reject'),
  });
  return sources;
}

/**
 * The warning when credentials are about to go over plain http:// (anyone on the network path
 * can read them; git itself says nothing), or null for https.
 */
export function plainHttpWarning(cleanUrl: string, label: string): string | null {
  const u = new URL(cleanUrl);
  if (u.protocol !== 'http:') return null;
  return `warning: sending ${label} to ${u.host} over plain http://, unencrypted: anyone on the network between can read it; use an https:// URL`;
}

/** `note`: told once per run when credentials go out over plain http://. */
export function makeAuth(cleanUrl: string, userinfo: Userinfo, env: NodeJS.ProcessEnv = process.env, note?: (line: string) => void): Auth {
  const sources = credentialSources(cleanUrl, userinfo, env);
  const warned = new Set<string>();
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
        const w = plainHttpWarning(cleanUrl, src.sends ?? src.label);
        if (w && note && !warned.has(w)) {
          warned.add(w);
          note(w);
        }
        return creds;
      }
    }
    return { cancel: true };
  }
  return auth;
}
