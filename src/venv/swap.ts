/**
 * "Move the venv aside, build another in its place, then keep the new one or put the old one
 * back": the one owner of it, for `pyctl clean`, the rebuild of `init --python` / `doctor --fix`
 * (operations/rebuild-venv.ts), and the repair of one a crash cut short.
 *
 *   const swap = moveAside(venv);  // venv -> venv.old-<pid>: one atomic rename (none when there is no venv)
 *   ...build the new venv at `venv`...
 *   swap.commit();                 // whole and recorded: the old one goes
 *   swap.putBack();                // a failure or Ctrl-C: the half-built one goes, the old one comes back
 *
 * A process killed in between leaves `venv.old-<pid>` beside a half-made venv. The next command
 * after that crash puts it back (`recoverSwap`, from the crash recovery of operations/record.ts);
 * doctor finds any leftover and its fix does the same (`putBackLeftover`).
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { sidePath } from './aside.js';

export interface Swap {
  /** Where the old venv waits while the new one is built. */
  readonly aside: string;
  /** Whether there was a venv to move aside. */
  readonly moved: boolean;
  /**
   * The new venv is whole and recorded: the old one is deleted, now or (`background`: a big venv
   * the caller does not wait for) by a detached `rm` under `venv.trash-<id>`, which doctor and
   * the next clean sweep if the machine goes down first.
   */
  commit(opts?: { background?: boolean }): void;
  /** The half-built venv is deleted and the old one renamed back, as it was. */
  putBack(): void;
}

/** Move the venv aside to build a new one at its path; `id` names the aside (the process by default). */
export function moveAside(venv: string, id: number = process.pid): Swap {
  const aside = sidePath(venv, 'old', id);
  rmSync(aside, { recursive: true, force: true }); // a leftover of a dead process with our pid
  let moved = false;
  if (existsSync(venv)) {
    renameSync(venv, aside);
    moved = true;
  }
  let over = false;
  return {
    aside,
    moved,
    commit(opts = {}) {
      if (over) return;
      over = true;
      if (!moved) return;
      if (opts.background) {
        const trash = sidePath(venv, 'trash', id);
        renameSync(aside, trash);
        spawn('rm', ['-rf', trash], { detached: true, stdio: 'ignore' }).unref();
      } else {
        rmSync(aside, { recursive: true, force: true });
      }
    },
    putBack() {
      if (over) return;
      over = true;
      if (moved && existsSync(aside)) putBackLeftover(venv, aside);
      else rmSync(venv, { recursive: true, force: true });
    },
  };
}

/**
 * After a crash of process `pid`: if it left its old venv aside and the venv in its place is
 * `unfinished` (asked only then), the old one comes back. Returns whether it did.
 */
export function recoverSwap(venv: string, pid: number, unfinished: () => boolean): boolean {
  const aside = sidePath(venv, 'old', pid);
  if (!existsSync(aside) || !unfinished()) return false;
  putBackLeftover(venv, aside);
  return true;
}

/**
 * Put a leftover old venv back: whatever is at the venv's path (half made, or broken) is renamed
 * to `venv.trash-<id>-half`, the old one renamed back (two renames: the venv is missing only
 * between them), then the replaced one deleted.
 */
export function putBackLeftover(venv: string, aside: string): void {
  const half = sidePath(venv, 'trash', `${basename(aside).slice(`${basename(venv)}.old-`.length)}-half`);
  rmSync(half, { recursive: true, force: true });
  if (existsSync(venv)) renameSync(venv, half);
  renameSync(aside, venv);
  rmSync(half, { recursive: true, force: true });
}
