/** File names in the link store (.git/pyctl/files): by RECORD hash and mode, else by inode. */
import type { Stats } from 'node:fs';

const hexOf = (b64: string) => Buffer.from(b64, 'base64url').toString('hex');

/** A store name for a file without a RECORD hash (or one linked apart): its inode, mtime and mode. */
export function inodeName(st: Stats, mode: number): string {
  return `i${st.ino.toString(16)}-${Math.round(st.mtimeMs * 1000).toString(16)}.${mode.toString(8)}`;
}

/** The store name of a file: its RECORD sha256 (base64url, '' for none) and mode, else its inode. */
export function storeName(sha: string, st: Stats, mode: number): string {
  return sha ? `${hexOf(sha)}.${mode.toString(8)}` : inodeName(st, mode);
}
