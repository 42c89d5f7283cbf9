/**
 * What several checks read (the venv's health, its side copies, the state repo's verification),
 * read once and kept until a fix writes what it came from: `--fix` then re-reads only that.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../operations/context.js';
import { FREEZE_FILE } from '../paths.js';
import { diffSets } from '../plan/changes.js';
import type { RepoCheck } from '../gitstore/repo.js';
import { leftoverVenvs } from '../venv/aside.js';
import { readFreeze } from '../venv/freeze.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { pickPython, venvHealth, type VenvHealth } from '../venv/health.js';
import type { Resource } from './check.js';
import { unfinishedVenv } from '../pip/hook.js';

export interface DoctorOptions {
  fix?: boolean;
  python?: string;
  /** Rebuild even if some packages cannot come across to the new Python (they are listed). */
  dropMissing?: boolean;
}

export class Scan {
  private memo = new Map<string, { reads: readonly Resource[]; value: unknown }>();
  constructor(
    readonly ctx: Context,
    readonly opts: DoctorOptions,
  ) {}

  get home() {
    return this.ctx.home;
  }
  get paths() {
    return this.ctx.home.paths;
  }

  /** Forget what was read from these (a fix wrote them). */
  forget(written: readonly Resource[]): void {
    for (const [k, m] of this.memo) if (m.reads.some((r) => written.includes(r))) this.memo.delete(k);
  }

  private once<T>(key: string, reads: readonly Resource[], read: () => T): T {
    const m = this.memo.get(key);
    if (m) return m.value as T;
    const value = read();
    this.memo.set(key, { reads, value });
    return value;
  }

  /** Files only, no Python started. */
  health(): VenvHealth {
    return this.once('health', ['venv'], () => venvHealth(this.paths.venv));
  }

  /** `venv.old-*` left by an interrupted rebuild or clean, newest first. */
  leftovers(): string[] {
    return this.once('leftovers', ['side-copies'], () => leftoverVenvs(this.paths.venv));
  }

  /** The newest healthy leftover: what to put back if the venv is broken. */
  restorable(): string | undefined {
    return this.once('restorable', ['side-copies'], () => this.leftovers().find((d) => venvHealth(d).status === 'ok'));
  }

  /** The Python a rebuild would use (looked for only when the venv is broken or --python is given). */
  python(): { python: string | null; why: string } {
    return this.once('python', ['venv'], () => {
      if (this.health().status === 'ok' && !this.opts.python) return { python: null, why: '' };
      try {
        return { python: pickPython(this.paths.venv, this.opts.python, this.health().version), why: '' };
      } catch (e) {
        return { python: null, why: (e as Error).message };
      }
    });
  }

  /** HEAD's freeze.txt, or null when there is none or it cannot be read. */
  recorded(): Promise<string | null> {
    return this.once('recorded', ['repo'], async () => {
      const { repo } = this.home;
      try {
        const h = repo.exists() ? await repo.headOid() : null;
        return h ? await repo.readAt(h, FREEZE_FILE) : null;
      } catch {
        return null; // unreadable history: the state-repo check says why
      }
    });
  }

  /** A healthy venv beside a restorable leftover that differs from the recorded state: a rebuild stopped half-way. */
  /** What a venv made by clean or a rebuild lacks until it is finished: pip, then the hook. Null when it has both. */
  unfinished(): 'pip' | 'recording hook' | null {
    return unfinishedVenv(this.paths);
  }

  halfBuilt(): Promise<boolean> {
    return this.once('halfBuilt', ['venv', 'side-copies', 'repo'], async () => {
      if (this.health().status !== 'ok' || !this.restorable()) return false;
      // A venv without pip or the hook beside a whole old one is half made, whatever was recorded
      // (a clean killed before its hook went in was recorded as its state by older versions).
      if (this.unfinished()) return true;
      const recorded = await this.recorded();
      return recorded !== null && diffSets(parseFreeze(recorded), parseFreeze(readFreeze(this.paths.venv))).length > 0;
    });
  }

  /** The state repo read through (`repo.verify`: the slow part of doctor), or null when it is missing. */
  repoCheck(): Promise<{ check: RepoCheck; ms: number; head: string | null; max: number } | null> {
    return this.once('repo', ['repo', 'config'], async () => {
      const { repo } = this.home;
      if (!repo.exists()) return null;
      let max = 100;
      try {
        max = this.home.config.history.max_entries;
      } catch {
        // reported by the config check
      }
      const t = Date.now();
      const check = await repo.verify(max);
      const ms = Date.now() - t;
      return { check, ms, head: check.problems.length ? null : await repo.headOid(), max };
    });
  }

  /** The venv looks like a venv (a repo rebuilt from it records its packages). */
  venvPresent(): boolean {
    return existsSync(this.paths.venv) && existsSync(join(this.paths.venv, 'pyvenv.cfg'));
  }
}
