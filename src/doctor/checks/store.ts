/**
 * Stored packages (wheel/package-store.ts): every stored file hashed against its RECORD sha256.
 * Undo and redo only hash files whose size or mtime moved; this reads them all. An entry whose
 * files were the per-user seed template's (operation 0's pip and setuptools) once that template
 * is gone (a cleared ~/.cache, a template made again) is no problem: a cache went, and undo and
 * restore install that version from the wheelhouse's wheel instead, as they say when they do.
 */
import { existsSync } from 'node:fs';
import { checkStored, listStored, removeStored, type StoredPackage } from '../../wheel/package-store.js';
import type { Check } from '../check.js';
import type { Scan } from '../scan.js';

const dirsOf = (scan: Scan) => ({ files: scan.paths.store, packages: scan.paths.packages });

const templateGone = (e: StoredPackage) => e.shared !== undefined && !existsSync(e.shared);

function damaged(scan: Scan) {
  const dirs = dirsOf(scan);
  const stored = listStored(dirs);
  const gone = stored.filter(templateGone);
  const bad = stored
    .filter((e) => !templateGone(e))
    .map((e) => ({ e, r: checkStored(dirs, e, true) }))
    .filter((x) => !x.r.ok);
  return { stored, gone, bad };
}

export const store: Check = {
  name: 'store',
  reads: ['venv'],
  async run(scan) {
    const { stored, gone, bad } = damaged(scan);
    if (!bad.length) {
      const note = gone.length ? ` (${gone.map((e) => `${e.name} ${e.version}`).join(', ')}: kept in a seed template since removed; undo/restore use the wheelhouse's wheel)` : '';
      return { status: 'ok', message: `${stored.length} stored package(s), every file matches its RECORD${note}`, fix: null };
    }
    return {
      status: 'problem',
      message: `stored copies edited or missing (undo/restore will not use them): ${bad.map((x) => `${x.e.name} ${x.e.version} (${x.r.bad})`).join('; ')}`,
      fix: 'forget those stored packages (undo/restore fetch them through pip instead)',
      fixable: true,
    };
  },
  fix: {
    writes: ['venv'],
    async apply(scan) {
      const { bad } = damaged(scan);
      for (const x of bad) removeStored(dirsOf(scan), x.e);
      return `forgot ${bad.length} stored package(s)`;
    },
  },
};
