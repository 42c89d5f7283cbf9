/**
 * The one place that loads isomorphic-git. Loaded lazily: it costs ~100 ms to import, and
 * fast paths (status, the pip hook's no-op check) must not pay for it.
 */
import * as fs from 'node:fs';
import { hostname, userInfo } from 'node:os';

export type Git = typeof import('isomorphic-git');
let loaded: Git | undefined;

export async function loadGit(): Promise<Git> {
  if (!loaded) {
    const mod = (await import('isomorphic-git')) as unknown as Git & { default?: Git };
    loaded = mod.default ?? mod;
  }
  return loaded;
}

export { fs };

/** The identity pyctl's commits carry: the local user, so `git log` reads naturally. */
export function author(): { name: string; email: string } {
  let name = 'pyctl';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (containers): keep the default.
  }
  return { name, email: `${name}@${hostname() || 'localhost'}` };
}

export type HttpClient = typeof import('isomorphic-git/http/node');
let loadedHttp: HttpClient | undefined;

/** isomorphic-git's Node HTTP(S) transport: loaded only by commands that talk to a remote. */
export async function loadHttp(): Promise<HttpClient> {
  if (!loadedHttp) {
    const mod = (await import('isomorphic-git/http/node')) as unknown as HttpClient & { default?: HttpClient };
    loadedHttp = mod.default ?? mod;
  }
  return loadedHttp;
}
