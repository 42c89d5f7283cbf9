/**
 * Stored packages (wheel/package-store.ts): every stored file hashed against its RECORD sha256.
 * Undo and redo only hash files whose size or mtime moved; this reads them all.
 */
import { checkStored, listStored, removeStored } from '../../wheel/package-store.js';
import type { Check } from '../check.js';
import type { Scan } from '../scan.js';

const dirsOf = (scan: Scan) => ({ files: scan.paths.store, packages: scan.paths.packages });

function damaged(scan: Scan) {
  const dirs = dirsOf(scan);
  const stored = listStored(dirs);
  return { stored, bad: stored.map((e) => ({ e, r: checkStored(dirs, e, true) })).filter((x) => !x.r.ok) };
}

export const store: Check = {
  name: 'store',
  reads: ['venv'],
  async run(scan) {
    const { stored, bad } = damaged(scan);
    if (!bad.length) return { status: 'ok', message: `${stored.length} stored package(s), every file matches its RECORD`, fix: null };
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
