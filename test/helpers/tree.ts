/**
 * Snapshot a folder tree for comparing two venvs: every path, its type and mode bits, and its
 * contents with the venv's own path replaced by <ROOT>. .pyc contents are not compared (they
 * embed paths and timestamps), only their existence and mode. In RECORD files a hash/size that
 * matches the file on disk becomes "OK": files naming the venv path hash differently per venv.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type Tree = Record<string, string>;

function normRecord(root: string, file: string, text: string): string {
  const site = dirname(dirname(file));
  return text
    .split('\r\n')
    .map((line) => {
      const [p, h, s] = line.split(',');
      if (!h) return line;
      try {
        const data = readFileSync(resolve(site, p));
        const ok = h === 'sha256=' + createHash('sha256').update(data).digest('base64url') && Number(s) === data.length;
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
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = p.slice(root.length + 1);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(p).split(root).join('<ROOT>')}`;
      else if (st.isDirectory()) {
        out[rel + '/'] = `dir ${mode}`;
        walk(p);
      } else if (rel.endsWith('.pyc')) out[rel] = `pyc ${mode}`;
      else {
        const text = readFileSync(p).toString('latin1');
        const body = name === 'RECORD' ? normRecord(root, p, text) : text.split(root).join('<ROOT>');
        out[rel] = `file ${mode}\n${body}`;
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
