/**
 * restore --file's `--hash=` values (issue 17, row 11): a pinned version is installed only from
 * a file whose hash one of them names. Checked while sources are found, before the venv changes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PyctlError } from '../errors.js';

/** The --hash values of a pinned line (`sha256:hex`, lower case), and where they were given (`FILE:LINE`). */
export interface PinHashes {
  values: string[];
  where: string;
}

/** Whether the file's hash is one of the allowed values (each algorithm given is tried). */
export function fileMatches(path: string, h: PinHashes): boolean {
  const data = readFileSync(path);
  const algos = new Set(h.values.map((v) => v.split(':')[0]));
  return [...algos].some((a) => h.values.includes(`${a}:${createHash(a).update(data).digest('hex')}`));
}

export function hashRefused(name: string, version: string, path: string, h: PinHashes): PyctlError {
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  return new PyctlError(
    'BAD_REQUIREMENTS',
    `${h.where}: the file for ${name} ${version} (${basename(path)}, sha256:${sha}) matches none of its --hash values; nothing was changed`,
    'check the hashes (pip hash FILE.whl), or the index pip fetched it from',
  );
}
