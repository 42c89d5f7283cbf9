/** The smart-HTTP(S) transport: isomorphic-git, credentials from the chain in credentials.ts. */
import type { HttpClient as GitHttpClient } from 'isomorphic-git';
import { loadHttp } from '../gitstore/git.js';
import { narrowAdvertisement } from './advertisement.js';
import { makeAuth, type Auth } from './credentials.js';
import { remoteError, type RemoteOp } from './hints.js';
import type { LocalRepo } from './local.js';
import { BRANCH_REF, type RefUpdate, type RemoteTarget, type Transport } from './transport.js';
import { splitUserinfo } from './url.js';

const ZERO = '0000000000000000000000000000000000000000';

/** The http client with upload-pack advertisements narrowed (see advertisement.ts). */
function narrowing(http: GitHttpClient): GitHttpClient {
  return {
    async request(req) {
      const res = await http.request(req);
      if (res.statusCode !== 200 || !/\/info\/refs\?service=git-upload-pack$/.test(req.url) || !res.body) return res;
      const chunks: Uint8Array[] = [];
      for await (const c of res.body) chunks.push(c);
      const body = narrowAdvertisement(Buffer.concat(chunks));
      return {
        ...res,
        body: (async function* () {
          yield new Uint8Array(body);
        })(),
      };
    },
  };
}

export class HttpTransport implements Transport {
  private readonly url: string;
  private readonly auth: Auth;

  constructor(
    private readonly target: RemoteTarget,
    private readonly local: LocalRepo,
    readonly kind: 'https' | 'http',
    note?: (line: string) => void,
  ) {
    const split = splitUserinfo(target.configured);
    this.url = split.url;
    this.auth = makeAuth(split.url, split, process.env, note);
  }

  private authOpts() {
    return { onAuth: this.auth.onAuth, onAuthFailure: this.auth.onAuthFailure, onAuthSuccess: this.auth.onAuthSuccess };
  }
  private fail(e: unknown, op: RemoteOp): Error {
    return remoteError(e, { url: this.target.configured, op, auth: this.auth });
  }

  async listRefs(forPush: boolean): Promise<Map<string, string>> {
    const git = await this.local.git();
    const refs = new Map<string, string>();
    try {
      const list = await git.listServerRefs({ http: await loadHttp(), url: this.url, forPush, protocolVersion: 1, ...this.authOpts() });
      for (const r of list) if (r.oid !== ZERO && r.ref.startsWith('refs/')) refs.set(r.ref, r.oid);
    } catch (e) {
      throw this.fail(e, forPush ? 'push' : 'fetch');
    }
    return refs;
  }

  async fetch(advertised: Map<string, string>): Promise<void> {
    const git = await this.local.git();
    const name = this.target.name;
    const ns = `refs/remotes/${name}/tags`;
    const before = await this.local.refsUnder(ns);
    const localTags = new Set(await this.local.tags());
    try {
      // tags: true so the snapshots' objects come along; the local tags it creates are moved
      // into the remote's namespace below (isomorphic-git never updates existing local tags).
      await git.fetch({ ...this.local.base, http: narrowing(await loadHttp()), remote: name, url: this.url, ref: 'main', remoteRef: BRANCH_REF, tags: true, singleBranch: false, ...this.authOpts() });
    } catch (e) {
      throw this.fail(e, 'fetch');
    } finally {
      await this.dropNewTags(localTags);
    }
    for (const [ref, oid] of advertised) {
      // Only what arrived: a tag moved on the server since the listing is picked up next time.
      if (ref.startsWith('refs/tags/') && (await this.local.has(oid))) await this.local.writeRef(`${ns}/${ref.slice(10)}`, oid);
    }
    await this.local.writeRef(`refs/remotes/${name}/main`, advertised.get(BRANCH_REF)!);
    for (const old of before.keys()) if (!advertised.has(`refs/tags/${old}`)) await this.local.deleteRef(`${ns}/${old}`);
  }

  /** Remove local tags a fetch created (they belong in the remote's namespace). */
  private async dropNewTags(localBefore: Set<string>): Promise<void> {
    for (const tg of await this.local.tags()) if (!localBefore.has(tg)) await this.local.deleteRef(`refs/tags/${tg}`);
  }

  async push(updates: RefUpdate[]): Promise<void> {
    const git = await this.local.git();
    const http = await loadHttp();
    for (const u of updates) {
      try {
        await git.push({ ...this.local.base, http, remote: this.target.name, url: this.url, ref: u.ref, remoteRef: u.ref, force: u.force, ...this.authOpts() });
      } catch (e) {
        throw this.fail(e, 'push');
      }
    }
  }
}
