/**
 * The identity commits in the state repo carry. `init` writes it into the repo's own config
 * (user.name/user.email), so plain `git commit` there works on an account with no git identity,
 * and pyctl reads it back from there: one identity for pyctl's commits and the user's own.
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Identity {
  name: string;
  email: string;
}

/** Pure: [user] name and email from a git config file's text (later lines win, as in git). */
export function identityIn(text: string): Partial<Identity> {
  const out: Partial<Identity> = {};
  let inUser = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    const sec = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"[^"]*")?\s*\]$/.exec(line);
    if (sec) {
      inUser = sec[1].toLowerCase() === 'user' && !line.includes('"');
      continue;
    }
    const kv = inUser ? /^(name|email)\s*=\s*(.*)$/i.exec(line) : null;
    if (kv) out[kv[1].toLowerCase() as keyof Identity] = kv[2].replace(/^"(.*)"$/, '$1').trim();
  }
  return out;
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** user@host: the identity when the user has none of their own. */
export function machineIdentity(): Identity {
  let name = 'pyctl';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (containers): keep the default.
  }
  return { name, email: `${name}@${hostname() || 'localhost'}` };
}

/** The user's own git identity (global config), each part falling back to user@host. */
export function userIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  const home = env.HOME || homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config');
  const found = { ...identityIn(readOr(join(xdg, 'git', 'config'))), ...identityIn(readOr(join(home, '.gitconfig'))) };
  const machine = machineIdentity();
  return { name: found.name || machine.name, email: found.email || machine.email };
}

const cache = new Map<string, Identity>();

/** The state repo's identity (its .git/config), else user@host. Read once per process. */
export function repoIdentity(gitDir: string): Identity {
  let id = cache.get(gitDir);
  if (!id) {
    const local = identityIn(readOr(join(gitDir, 'config')));
    const machine = machineIdentity();
    id = { name: local.name || machine.name, email: local.email || machine.email };
    cache.set(gitDir, id);
  }
  return id;
}

/** Whether the repo's own config names an identity (homes made before init wrote one do not). */
export function hasRepoIdentity(gitDir: string): boolean {
  const local = identityIn(readOr(join(gitDir, 'config')));
  return !!(local.name && local.email);
}
