/**
 * The venv's side copies, next to it in the home, named and found: `venv.new-<id>` while a move
 * to another Python checks what can come across (operations/rebuild-venv.ts), `venv.old-<pid>`
 * while a new venv is built in its place (swap.ts: clean, the rebuild; put back on failure) and
 * `venv.trash-<id>` while a replaced one is deleted. Doctor looks for all of them.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type Side = 'old' | 'trash' | 'new';

export const sidePath = (venv: string, side: Side, id: string | number): string => `${venv}.${side}-${id}`;

/** The side copies of one kind, sorted by name (oldest first for timestamped ids). */
export function sideCopies(venv: string, side: Side): string[] {
  const dir = dirname(venv);
  const prefix = `${basename(venv)}.${side}-`;
  try {
    return readdirSync(dir)
      .filter((n) => n.startsWith(prefix))
      .map((n) => join(dir, n))
      .sort();
  } catch {
    return [];
  }
}

/** Aside copies left by an interrupted rebuild or clean (swap.ts), last named first. */
export function leftoverVenvs(venv: string): string[] {
  return sideCopies(venv, 'old').reverse();
}

/**
 * Old venvs a background delete did not finish (the machine went down meanwhile), or is still
 * deleting, and scratch venvs of a move to another Python that was killed while checking
 * (`venv.new-*`: never used by anything). Never needed again.
 */
export function trashVenvs(venv: string): string[] {
  return [...sideCopies(venv, 'trash'), ...sideCopies(venv, 'new')];
}

/** Deletes them (the next clean, doctor --fix); returns what was deleted. */
export function sweepTrash(venv: string): string[] {
  const trash = trashVenvs(venv);
  for (const d of trash) rmSync(d, { recursive: true, force: true });
  return trash;
}
