/**
 * Read git objects directly, loose or packed, for the common reads of undo, history and diff
 * (a few commits, one tree, one blob) without loading isomorphic-git (~100 ms). Every object is
 * checked against its id (SHA-1); anything unexpected returns null and the caller asks
 * isomorphic-git, which also reports damage.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { objectId } from './fastgit.js';

export interface GitObject {
  type: string;
  body: Buffer;
}

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'];

function verified(oid: string, type: string, body: Buffer): GitObject | null {
  return objectId(type, body) === oid ? { type, body } : null;
}

function readLoose(gitDir: string, oid: string): GitObject | null {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(join(gitDir, 'objects', oid.slice(0, 2), oid.slice(2))));
  } catch {
    return null;
  }
  const nul = raw.indexOf(0);
  const m = nul > 0 ? /^(commit|tree|blob|tag) \d+$/.exec(raw.subarray(0, nul).toString('latin1')) : null;
  return m ? verified(oid, m[1], raw.subarray(nul + 1)) : null;
}

interface Pack {
  idx: Buffer;
  pack: Buffer;
  count: number;
}

const packCache = new Map<string, Pack[]>();

function packs(gitDir: string): Pack[] {
  let list = packCache.get(gitDir);
  if (list) return list;
  list = [];
  const dir = join(gitDir, 'objects', 'pack');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.idx'));
  } catch {
    // no packs
  }
  for (const n of names) {
    try {
      const idx = readFileSync(join(dir, n));
      if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) continue;
      list.push({ idx, pack: readFileSync(join(dir, n.replace(/\.idx$/, '.pack'))), count: idx.readUInt32BE(8 + 255 * 4) });
    } catch {
      // a pack being written or removed: the fallback handles it
    }
  }
  packCache.set(gitDir, list);
  return list;
}

function packOffset(p: Pack, oid: string): number | null {
  const want = Buffer.from(oid, 'hex');
  const first = want[0];
  let lo = first === 0 ? 0 : p.idx.readUInt32BE(8 + (first - 1) * 4);
  let hi = p.idx.readUInt32BE(8 + first * 4);
  const names = 8 + 256 * 4;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = p.idx.compare(want, 0, 20, names + mid * 20, names + mid * 20 + 20);
    if (c === 0) {
      const offs = names + p.count * 24;
      const o = p.idx.readUInt32BE(offs + mid * 4);
      if (!(o & 0x80000000)) return o;
      const big = offs + p.count * 4 + (o & 0x7fffffff) * 8;
      return Number(p.idx.readBigUInt64BE(big));
    }
    if (c > 0) hi = mid;
    else lo = mid + 1;
  }
  return null;
}

/** The object at `offset` in a pack: its type and content, deltas resolved. */
function readPacked(gitDir: string, p: Pack, offset: number, depth = 0): { type: string; body: Buffer } | null {
  if (depth > 64) return null;
  const buf = p.pack;
  let i = offset;
  let c = buf[i++];
  const type = (c >> 4) & 7;
  while (c & 0x80) c = buf[i++]!; // the size varint: inflate tells us the size anyway
  if (type >= 1 && type <= 4) return { type: TYPES[type], body: inflateSync(buf.subarray(i)) };
  let base: { type: string; body: Buffer } | null;
  if (type === 6) {
    c = buf[i++]!;
    let back = c & 0x7f;
    while (c & 0x80) {
      c = buf[i++]!;
      back = ((back + 1) << 7) | (c & 0x7f);
    }
    base = readPacked(gitDir, p, offset - back, depth + 1);
  } else if (type === 7) {
    const baseOid = buf.subarray(i, i + 20).toString('hex');
    i += 20;
    base = readObject(gitDir, baseOid);
  } else return null;
  return base ? { type: base.type, body: applyDelta(base.body, inflateSync(buf.subarray(i))) } : null;
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let i = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    let c;
    do {
      c = delta[i++]!;
      n += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return n;
  };
  varint(); // source size
  const out = Buffer.alloc(varint());
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++];
    if (op & 0x80) {
      let off = 0;
      let size = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off |= delta[i++] << (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) size |= delta[i++] << (8 * b);
      if (size === 0) size = 0x10000;
      base.copy(out, o, off >>> 0, (off >>> 0) + size);
      o += size;
    } else if (op) {
      delta.copy(out, o, i, i + op);
      i += op;
      o += op;
    } else throw new Error('bad delta');
  }
  return out;
}

export function readObject(gitDir: string, oid: string): GitObject | null {
  if (!/^[0-9a-f]{40}$/.test(oid)) return null;
  const loose = readLoose(gitDir, oid);
  if (loose) return loose;
  for (const p of packs(gitDir)) {
    const at = packOffset(p, oid);
    if (at === null) continue;
    try {
      const o = readPacked(gitDir, p, at);
      return o ? verified(oid, o.type, o.body) : null;
    } catch {
      return null;
    }
  }
  return null;
}

export interface RawCommit {
  tree: string;
  parents: string[];
  message: string;
  time: number;
}

export function readRawCommit(gitDir: string, oid: string): RawCommit | null {
  const o = readObject(gitDir, oid);
  if (!o || o.type !== 'commit') return null;
  const text = o.body.toString('utf8');
  const end = text.indexOf('\n\n');
  if (end < 0) return null;
  let tree = '';
  let time = NaN;
  const parents: string[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('committer ')) time = Number(/ (\d+) [+-]\d{4}$/.exec(line)?.[1]);
  }
  return tree && Number.isFinite(time) ? { tree, parents, message: text.slice(end + 2), time } : null;
}

/** A top-level file's blob id in a tree: null when absent, undefined when the tree is unreadable here. */
export function treeEntry(gitDir: string, tree: string, name: string): string | null | undefined {
  const o = readObject(gitDir, tree);
  if (!o || o.type !== 'tree') return undefined;
  const b = o.body;
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    const nul = b.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > b.length) return undefined;
    if (b.subarray(sp + 1, nul).toString('utf8') === name) return b.subarray(nul + 1, nul + 21).toString('hex');
    i = nul + 21;
  }
  return null;
}

/** The blob ids of a tree's top-level entries (not subtrees or submodules), or undefined when the tree is unreadable here. */
export function treeBlobs(gitDir: string, tree: string): string[] | undefined {
  const o = readObject(gitDir, tree);
  if (!o || o.type !== 'tree') return undefined;
  const b = o.body;
  const out: string[] = [];
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    const nul = b.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > b.length) return undefined;
    const mode = b.subarray(i, sp).toString('latin1');
    if (mode !== '40000' && mode !== '160000') out.push(b.subarray(nul + 1, nul + 21).toString('hex'));
    i = nul + 21;
  }
  return out;
}
