/**
 * Known states of one test home, each built once per file and put back at the start of every test
 * that asks for it, so no test depends on what an earlier one left behind: any test passes run
 * alone (`-t`) or shuffled (`--sequence.shuffle`).
 *
 * A state is a copy of the whole home (venv, git repo, store, wheelhouse) taken with `cp -a` and
 * put back at the same path: the venv's scripts name their absolute path, and `cp -a` keeps the
 * hard links between the venv and the home's store. Copying (~0.3 s) is cheaper than building a
 * state again with pip. With `linkCache`, helpers/copy-tree.ts links the per-user cache's files
 * instead and rewrites only what the test changed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { knownOf, syncTree, type Known } from './copy-tree.js';
import { removeDir } from './env.js';
import { runSyncOk } from './run.js';

export interface StatesOptions {
  /**
   * Put a state back with helpers/copy-tree.ts instead of `cp -a`: the files the home shares with
   * the per-user pyctl cache (the seed template's pip and setuptools) are linked, not copied, and
   * what the test did not touch is left in place: ~0.1 s of CPU a home instead of `cp -a`'s
   * ~0.5 s. For tests that never write into pip's or setuptools' files in place.
   */
  linkCache?: boolean;
}

export class HomeStates {
  private readonly saved = new Set<string>();
  /** linkCache: each path's entries as the last state put there left them. */
  private readonly last: ({ name: string; known: Known } | undefined)[] = [];
  /** The state the home holds, when the tests since it was put back only read it. */
  private untouched: string | undefined;

  /**
   * `home` is the path every test uses; copies of the states go under `dir`. `also` names other
   * folders that belong to a state (a user's HOME whose ~/.bashrc doctor --fix writes).
   */
  constructor(
    private readonly home: string,
    private readonly dir: string,
    private readonly also: string[] = [],
    private readonly options: StatesOptions = {},
  ) {}

  /**
   * Put the home in state `name`, for a test that may change it. The first call runs `build`
   * (which starts from another state or from nothing: the home may hold anything) and saves the
   * result; later calls put that copy back.
   */
  async given(name: string, build: () => Promise<void>): Promise<void> {
    await this.put(name, build);
    this.untouched = undefined;
  }

  /**
   * The same, for a test that only reads the home (and checks that it changed nothing where it
   * runs commands that could): when the home already holds `name` untouched, nothing is copied.
   */
  async givenToRead(name: string, build: () => Promise<void>): Promise<void> {
    if (this.untouched !== name) await this.put(name, build);
    this.untouched = name;
  }

  private async put(name: string, build: () => Promise<void>): Promise<void> {
    const paths = [this.home, ...this.also];
    const copies = paths.map((_, i) => join(this.dir, name, String(i)));
    this.untouched = undefined;
    if (!this.saved.has(name)) {
      await build();
      paths.forEach(sweepTrash);
      removeDir(join(this.dir, name));
      mkdirSync(join(this.dir, name), { recursive: true });
      for (const [i, p] of paths.entries()) {
        if (!this.options.linkCache) {
          runSyncOk('cp', ['-a', p, copies[i]]);
          continue;
        }
        const last = this.last[i];
        await syncTree(p, copies[i], new Map(), { base: last && { dir: join(this.dir, last.name, String(i)), known: last.known } });
        // Untouched since, the home holds what was saved.
        this.last[i] = { name, known: knownOf(p) };
      }
      this.saved.add(name);
      return;
    }
    paths.forEach(sweepTrash);
    for (const [i, p] of paths.entries()) {
      if (this.options.linkCache) {
        const last = this.last[i];
        this.last[i] = { name, known: await syncTree(copies[i], p, last?.known ?? new Map(), { srcIsSaved: true, knownFrom: last && join(this.dir, last.name, String(i)) }) };
        continue;
      }
      removeDir(p);
      runSyncOk('cp', ['-a', copies[i], p]);
    }
  }
}

/**
 * Deletes the `venv.trash-*` folders in `dir` a detached `rm` (venv/swap.ts) may still be emptying:
 * copying or walking one races that rm (`cp: cannot stat`), and no state needs garbage. Retried,
 * as the rm and this delete can each take an entry from under the other.
 */
function sweepTrash(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^venv\.trash-/.test(n));
  } catch {
    return; // no such folder yet
  }
  for (const n of names) {
    const p = join(dir, n);
    for (let tries = 0; existsSync(p); tries++) {
      try {
        rmSync(p, { recursive: true, force: true });
      } catch (e) {
        if (tries > 100) throw e;
      }
    }
  }
}
