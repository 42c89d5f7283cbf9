/**
 * ONE interface for talking to a remote, two implementations: isomorphic-git's smart HTTP
 * (transport-http.ts, needs nothing installed) and the git command (transport-git.ts, for ssh,
 * git:// and paths). `openTransport` is the one place that picks, by URL kind (as
 * isomorphic-git's GitRemoteManager picks by URL); callers never branch on the kind.
 */
import { PyctlError } from '../errors.js';
import type { HomePaths } from '../paths.js';
import { gitCliAvailable } from './git-cli.js';
import type { LocalRepo } from './local.js';
import { maskSecrets } from './mask.js';
import { urlKind, type UrlKind } from './url.js';

export const BRANCH_REF = 'refs/heads/main';

/** How pyctl talks to a remote: smart HTTP over TLS, plain (unencrypted) smart HTTP, or the git command. */
export type TransportKind = 'https' | 'http' | 'git-cli';

export interface RemoteTarget {
  name: string;
  /** As configured (may hold userinfo: never print it unmasked). */
  configured: string;
  kind: UrlKind;
}

export interface RefUpdate {
  /** Full ref name, the same locally and on the remote (refs/heads/main, refs/tags/NAME). */
  ref: string;
  force: boolean;
}

export interface Transport {
  readonly kind: TransportKind;
  /** The server's refs: full name -> oid (annotated tags: the tag object; no peeled entries). */
  listRefs(forPush: boolean): Promise<Map<string, string>>;
  /**
   * Bring in the objects of the server's main and of every tag, and mirror them as
   * refs/remotes/NAME/main and refs/remotes/NAME/tags/* (tags gone from the server removed).
   * Local tags and other server branches are left alone. `advertised`: what listRefs returned.
   */
  fetch(advertised: Map<string, string>): Promise<void>;
  /** Send these updates; a refusal throws a PyctlError. */
  push(updates: RefUpdate[]): Promise<void>;
}

export function transportKindOf(url: string): TransportKind {
  if (urlKind(url) !== 'http') return 'git-cli';
  return /^https:/i.test(url) ? 'https' : 'http';
}

/** `note`: where a warning goes (credentials about to travel over plain http://). */
export async function openTransport(target: RemoteTarget, local: LocalRepo, paths: HomePaths, note?: (line: string) => void): Promise<Transport> {
  const kind = transportKindOf(target.configured);
  if (kind !== 'git-cli') {
    const { HttpTransport } = await import('./transport-http.js');
    return new HttpTransport(target, local, kind, note);
  }
  if (!(await gitCliAvailable())) {
    throw new PyctlError(
      'REMOTE',
      `remote '${target.name}' (${maskSecrets(target.configured)}) is not an https:// URL, and the git command it would need is not installed`,
      `install git, or use an https URL: pyctl remote remove ${target.name} && pyctl remote add ${target.name} https://...`,
    );
  }
  const { GitCliTransport } = await import('./transport-git.js');
  return new GitCliTransport(target, paths);
}
