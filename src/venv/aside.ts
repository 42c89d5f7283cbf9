/**
 * The venv's side copies, next to it in the home: `venv.new-<id>` while a move to another Python
 * checks what can come across (rebuild-venv.ts), `venv.old-<id>` while a new venv is built in
 * its place (clean, doctor's rebuild; put back on failure) and `venv.trash-<id>` while clean
 * deletes the replaced one in the background. Doctor looks for both.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
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

/** Aside copies left by an interrupted rebuild or clean, newest first. */
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

/**
 * After a crash of the process `pid` that had moved the venv aside (`venv.old-<pid>`): the venv in
 * its place is half made, so it goes to the trash and the old one comes back. Returns whether it did.
 */
export function putBackAside(venv: string, pid: number): boolean {
  const aside = sidePath(venv, 'old', pid);
  if (!existsSync(aside)) return false;
  if (existsSync(venv)) renameSync(venv, sidePath(venv, 'trash', `${pid}-half`));
  renameSync(aside, venv);
  return true;
}
