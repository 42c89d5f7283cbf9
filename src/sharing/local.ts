/** The home's state repo as sharing reads and writes it (refs, objects, ancestry), via isomorphic-git. */
import type { HomePaths } from '../paths.js';
import { fs, loadGit, type Git } from '../gitstore/git.js';

export class LocalRepo {
  private mod?: Git;
  constructor(readonly paths: HomePaths) {}

  async git(): Promise<Git> {
    return (this.mod ??= await loadGit());
  }
  get base() {
    return { fs, dir: this.paths.home, gitdir: this.paths.gitDir };
  }

  async resolve(ref: string): Promise<string | null> {
    try {
      return await (await this.git()).resolveRef({ ...this.base, ref });
    } catch {
      return null;
    }
  }

  async has(oid: string): Promise<boolean> {
    try {
      await (await this.git()).readObject({ ...this.base, oid, format: 'deflated' });
      return true;
    } catch {
      return false;
    }
  }

  /** A ref's commit: peel annotated tags. */
  async peel(oid: string): Promise<string> {
    const git = await this.git();
    let cur = oid;
    for (let i = 0; i < 10; i++) {
      const o = await git.readObject({ ...this.base, oid: cur });
      if (o.type !== 'tag') return cur;
      cur = (await git.readTag({ ...this.base, oid: cur })).tag.object;
    }
    return cur;
  }

  async isAncestor(ancestor: string, oid: string): Promise<boolean> {
    if (ancestor === oid) return true;
    if (!(await this.has(ancestor))) return false;
    try {
      return await (await this.git()).isDescendent({ ...this.base, oid, ancestor, depth: -1 });
    } catch {
      return false;
    }
  }

  /** Every commit reachable from `from`, all parents, not walking past `stop`. */
  async reachable(from: string[], stop: Set<string> = new Set()): Promise<string[]> {
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

  /** Names under a ref folder (e.g. refs/remotes/origin/tags), with their oids. */
  async refsUnder(prefix: string): Promise<Map<string, string>> {
    const git = await this.git();
    const out = new Map<string, string>();
    for (const r of await git.listRefs({ ...this.base, filepath: prefix })) {
      const oid = await this.resolve(`${prefix}/${r}`);
      if (oid) out.set(r, oid);
    }
    return out;
  }

  async writeRef(ref: string, value: string): Promise<void> {
    await (await this.git()).writeRef({ ...this.base, ref, value, force: true });
  }
  async deleteRef(ref: string): Promise<void> {
    await (await this.git()).deleteRef({ ...this.base, ref }).catch(() => {});
  }
  async tags(): Promise<string[]> {
    return (await this.git()).listTags({ ...this.base });
  }
}
