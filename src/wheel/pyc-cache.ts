/**
 * Content-addressed cache of compiled .pyc files. Byte-compiling pip itself takes ~1 s; a .pyc
 * depends only on the source bytes and the interpreter's magic number, plus a 16-byte header
 * whose mtime/size fields we patch for the new source file. (The embedded co_filename may
 * name another path: the import system rewrites it on load, see importlib's _fix_co_filename.)
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function pycCacheUsable(env: NodeJS.ProcessEnv = process.env): boolean {
  // Hash-based pycs (SOURCE_DATE_EPOCH), pycache prefixes and -O change what pip would write.
  return !env.SOURCE_DATE_EPOCH && !env.PYTHONPYCACHEPREFIX && !env.PYTHONOPTIMIZE;
}

function entry(cacheDir: string, tag: string, magic: string, sourceHash: string): string {
  return join(cacheDir, `${tag}-${magic}`, sourceHash.replace(/^sha256=/, '') + '.pyc');
}

export function cachedPyc(cacheDir: string, tag: string, magic: string, sourceHash: string): Buffer | null {
  try {
    return readFileSync(entry(cacheDir, tag, magic, sourceHash));
  } catch {
    return null;
  }
}

/** Keep a .pyc the interpreter just wrote (`data`: its bytes) for the next install of that source. */
export function storePyc(cacheDir: string, tag: string, magic: string, sourceHash: string, data: Buffer): void {
  try {
    if (data.length < 16 || data.readUInt32LE(4) !== 0) return; // only timestamp-based pycs
    const dest = entry(cacheDir, tag, magic, sourceHash);
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, dest);
  } catch {
    // A cache that cannot be written only costs speed.
  }
}

/** A cached pyc for `source` exactly as py_compile would write it: header from the source's stat. */
export function pycFromCache(cached: Buffer, source: string): { data: Buffer; mode: number } {
  const st = statSync(source, { bigint: true });
  // Python's st_mtime is the double sec + nsec*1e-9, truncated by int(); reproduce its rounding.
  const mtime = Math.floor(Number(st.mtimeNs / 1_000_000_000n) + Number(st.mtimeNs % 1_000_000_000n) * 1e-9);
  const data = Buffer.from(cached);
  data.writeUInt32LE(mtime % 2 ** 32, 8);
  data.writeUInt32LE(Number(st.size % 2n ** 32n), 12);
  // py_compile: mode = (source mode | 0o200) & 0o666 (written to a temp file and renamed).
  return { data, mode: ((Number(st.mode) & 0o777) | 0o200) & 0o666 };
}
