/**
 * Known states of one test home, each built once per file and put back at the start of every test
 * that asks for it, so no test depends on what an earlier one left behind: any test passes run
 * alone (`-t`) or shuffled (`--sequence.shuffle`).
 *
 * A state is a copy of the whole home (venv, git repo, store, wheelhouse) taken with `cp -a` and
 * put back at the same path: the venv's scripts name their absolute path, and `cp -a` keeps the
 * hard links between the venv and the home's store. Copying (~0.3 s) is cheaper than building a
 * state again with pip.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir } from './env.js';

export class HomeStates {
  private readonly saved = new Set<string>();
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
      removeDir(join(this.dir, name));
      mkdirSync(join(this.dir, name), { recursive: true });
      paths.forEach((p, i) => execFileSync('cp', ['-a', p, copies[i]]));
      this.saved.add(name);
      return;
    }
    paths.forEach((p, i) => {
      removeDir(p);
      execFileSync('cp', ['-a', copies[i], p]);
    });
  }
}
