/**
 * The one place that loads isomorphic-git. Loaded lazily: it costs ~100 ms to import, and
 * fast paths (status, the pip hook's no-op check) must not pay for it.
 *
 * isomorphic-git writes files in place and skips writing an object whose file already exists
 * (docs/safety.md). A SIGKILL mid-write would leave a truncated object that no later write
 * repairs. So it gets a file system whose writes are atomic (temp file + rename: a reader sees
 * the old file or the whole new one), and whose `stat` of a loose object treats an empty or
 * undecompressible file as garbage: it is removed and reported missing, so it gets rewritten.
 */
import * as nodeFs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { writeAtomic, writeAtomicLast } from '../fs/durable.js';

export type Git = typeof import('isomorphic-git');
let loaded: Git | undefined;

export async function loadGit(): Promise<Git> {
  if (!loaded) {
    const mod = (await import('isomorphic-git')) as unknown as Git & { default?: Git };
    loaded = mod.default ?? mod;
  }
  return loaded;
}

const LOOSE_OBJECT = /\/objects\/[0-9a-f]{2}\/[0-9a-f]{38}$/;
let tmpSeq = 0;

/** Is this loose object file unusable (empty, or not a complete zlib stream)? */
export function looseObjectBroken(path: string): boolean {
  let data: Buffer;
  try {
    data = nodeFs.readFileSync(path);
  } catch {
    return false; // missing or unreadable: not ours to judge here
  }
  if (data.length === 0) return true;
  try {
    const raw = inflateSync(data);
    const nul = raw.indexOf(0);
    const m = /^(blob|tree|commit|tag) (\d+)$/.exec(raw.subarray(0, nul).toString('latin1'));
    return !m || Number(m[2]) !== raw.length - nul - 1;
  } catch {
    return true;
  }
}

/** History (objects, refs) is flushed to disk as git does with core.fsync=committed; the index and config are not. */
const COMMITTED = /\/(objects\/[0-9a-f]{2}\/[0-9a-f]{38}|refs\/.+|HEAD|packed-refs)$/;
const OBJECT = /\/objects\//;

async function writeFileAtomic(path: string, data: string | Uint8Array, options?: unknown): Promise<void> {
  const slashed = path.replace(/\\/g, '/');
  if (COMMITTED.test(slashed)) {
    const mode = typeof options === 'object' && options && 'mode' in options ? (options as { mode: number }).mode : undefined;
    const content = typeof data === 'string' ? data : Buffer.from(data);
    // Objects are flushed together just before the ref that names them (fs/durable.ts).
    if (OBJECT.test(slashed)) writeAtomic(path, content, { mode, later: true });
    else await writeAtomicLast(path, content, mode);
    return;
  }
  const tmp = `${path}.tmp-${process.pid}-${++tmpSeq}`;
  try {
    await fsp.writeFile(tmp, data, options as nodeFs.WriteFileOptions);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

async function statHealing(path: string, options?: nodeFs.StatOptions): Promise<nodeFs.Stats> {
  const st = (await fsp.stat(path, options)) as nodeFs.Stats;
  if (LOOSE_OBJECT.test(path.replace(/\\/g, '/')) && st.isFile() && looseObjectBroken(path)) {
    await fsp.rm(path, { force: true });
    const e = new Error(`ENOENT: broken loose object removed, stat '${path}'`) as NodeJS.ErrnoException;
    e.code = 'ENOENT';
    throw e;
  }
  return st;
}

/** The file system handed to isomorphic-git (its `promises` property must be enumerable). */
export const fs = {
  promises: {
    ...fsp,
    readFile: fsp.readFile,
    writeFile: writeFileAtomic,
    stat: statHealing,
  },
};

export type HttpClient = typeof import('isomorphic-git/http/node');
let loadedHttp: HttpClient | undefined;

/** isomorphic-git's Node HTTP(S) transport: loaded only by commands that talk to a remote. */
export async function loadHttp(): Promise<HttpClient> {
  if (!loadedHttp) {
    const mod = (await import('isomorphic-git/http/node')) as unknown as HttpClient & { default?: HttpClient };
    loadedHttp = mod.default ?? mod;
  }
  return loadedHttp;
}
