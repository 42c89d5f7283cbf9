/**
 * Snapshot a folder tree for comparing two venvs: every path, its type and mode bits, and its
 * contents with the venv's own path replaced by <ROOT>. .pyc contents are not compared (they
 * embed paths and timestamps), only their existence and mode. In RECORD files a hash/size that
 * matches the file on disk becomes "OK": files naming the venv path hash differently per venv.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type Tree = Record<string, string>;

// What a file read last gave (its snapshot entry, its sha256), by path, reused while the file is
// the same inode with the same ctime and size: no write, chmod, link or rename leaves ctime alone
// (helpers/copy-tree.ts tells untouched files the same way). A venv is ~1,600 files, most of them
// untouched between two snapshots of it: reading and hashing each again cost ~0.15 s of CPU a
// snapshot, and test/wheel.test.ts takes ~25.
const stampOf = (st: BigIntStats) => `${st.dev}:${st.ino}:${st.ctimeNs}:${st.size}`;
// Per root, for the last few roots only: a worker runs many test files (isolate: false), and a
// venv's entries hold its files' text (~10 MB).
const byRoot = new Map<string, Map<string, { stamp: string; entry: string }>>();
const KEEP_ROOTS = 4;
const digests = new Map<string, { stamp: string; digest: string }>();

function entriesOf(root: string): Map<string, { stamp: string; entry: string }> {
  const known = byRoot.get(root) ?? new Map<string, { stamp: string; entry: string }>();
  byRoot.delete(root);
  byRoot.set(root, known); // the newest last
  for (const old of byRoot.keys()) if (byRoot.size > KEEP_ROOTS) byRoot.delete(old);
  if (digests.size > 100_000) digests.clear();
  return known;
}

/** `sha256=<base64url>,<size>` of a file, as RECORD writes it (throws when it cannot be read). */
function recordDigest(path: string): string {
  const stamp = stampOf(statSync(path, { bigint: true }));
  const known = digests.get(path);
  if (known?.stamp === stamp) return known.digest;
  const data = readFileSync(path);
  const digest = `sha256=${createHash('sha256').update(data).digest('base64url')},${data.length}`;
  digests.set(path, { stamp, digest });
  return digest;
}

function normRecord(root: string, file: string, text: string): string {
  const site = dirname(dirname(file));
  return text
    .split('\r\n')
    .map((line) => {
      const [p, h, s] = line.split(',');
      if (!h) return line;
      try {
        const ok = recordDigest(resolve(site, p)) === `${h},${Number(s)}`;
        return ok ? `${p},OK` : `${p},BAD:${h},${s}`;
      } catch {
        return `${p},MISSING:${h},${s}`;
      }
    })
    .join('\r\n')
    .split(root)
    .join('<ROOT>');
}

export function snapshot(root: string): Tree {
  const out: Tree = {};
  const entries = entriesOf(root);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = p.slice(root.length + 1);
      const st = lstatSync(p, { bigint: true });
      const mode = (Number(st.mode) & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(p).split(root).join('<ROOT>')}`;
      else if (st.isDirectory()) {
        out[rel + '/'] = `dir ${mode}`;
        walk(p);
      } else if (rel.endsWith('.pyc')) out[rel] = `pyc ${mode}`;
      else if (name === 'RECORD') {
        // Checked against the files it lists each time: those may have changed since.
        out[rel] = `file ${mode}\n${normRecord(root, p, readFileSync(p).toString('latin1'))}`;
      } else {
        const stamp = stampOf(st);
        const known = entries.get(p);
        if (known?.stamp === stamp) out[rel] = known.entry;
        else {
          out[rel] = `file ${mode}\n${readFileSync(p).toString('latin1').split(root).join('<ROOT>')}`;
          entries.set(p, { stamp, entry: out[rel] });
        }
      }
    }
  };
  walk(root);
  return out;
}

/** Paths whose entries differ, with both sides, for a readable assertion message. */
export function treeDiff(a: Tree, b: Tree): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k}:\n  A: ${(a[k] ?? '(absent)').slice(0, 300)}\n  B: ${(b[k] ?? '(absent)').slice(0, 300)}`);
}
