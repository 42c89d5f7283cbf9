/**
 * A cache of the newest operation (.git/pyctl/last.json), so `status` answers without loading
 * git. Trusted only while its commit is still HEAD; a hand-made commit makes it stale.
 */
import { join } from 'node:path';
import type { HomePaths } from '../paths.js';
import { writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import { readHeadOid } from '../gitstore/refs.js';
import type { ChangeCounts } from '../plan/changes.js';
import type { OpKind } from '../gitstore/message.js';

export interface LastOp {
  commit: string;
  op: number;
  kind: OpKind;
  subject: string;
  time: number;
  counts: ChangeCounts;
  packages: number;
  /** The git blob id of the recorded freeze.txt: when the work-tree file still hashes to it, the
   * record path reads HEAD's state from the file instead of loading isomorphic-git. */
  freezeOid?: string;
}

const file = (p: HomePaths) => join(p.runtime, 'last.json');

export function writeLast(paths: HomePaths, last: LastOp): void {
  // A cache (HEAD says the truth): atomic, not flushed; a torn or old one is ignored or rebuilt.
  writeAtomic(file(paths), JSON.stringify(last) + '\n', { sync: false });
}

export function readLastIfHead(paths: HomePaths): LastOp | null {
  const text = readTextOr(file(paths));
  if (!text) return null;
  try {
    const last = JSON.parse(text) as LastOp;
    return last.commit === readHeadOid(paths.gitDir) ? last : null;
  } catch {
    return null;
  }
}
