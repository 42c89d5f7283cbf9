/**
 * Whether a kept wheel is whole. A wheel truncated by a full disk or a crash (written in place
 * by older versions) must never be installed: it fails as "not a zip file" half-way through an
 * undo. The end-of-central-directory record is the last thing written, so reading the file's
 * tail (~65 KB at most, ~50 µs) tells a truncated wheel from a whole one; reading the directory
 * it points to (a few hundred KB for the largest wheels) tells one garbled inside. File data is
 * not inflated here (doctor's full check does that).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const EOCD = 0x06054b50;
const CEN = 0x02014b50;

/** Null when the wheel looks whole, else why not. */
export function wheelDamage(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 22) return 'truncated (not a zip file)';
    const n = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(n);
    readSync(fd, tail, 0, n, size - n);
    let eocd = -1;
    for (let i = n - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return 'truncated (no end of the zip directory)';
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const eocdAt = size - n + eocd;
    if (cdOffset === 0xffffffff) return null; // zip64: the full reader checks it
    if (cdOffset + cdSize > eocdAt) return 'truncated (the zip directory runs past the end)';
    // The whole directory must read: a kept wheel garbled inside (same size, no recorded hash
    // for a rebuilt one) fails as "not a zip file" half-way through an undo otherwise.
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    return directoryDamage(cd, cdOffset, tail.readUInt16LE(eocd + 10));
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

/** Why a zip's central directory does not read as `count` entries pointing before it, or null. */
function directoryDamage(cd: Buffer, cdOffset: number, count: number): string | null {
  let at = 0;
  let n = 0;
  while (at < cd.length) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== CEN) return n ? `corrupt (zip directory entry ${n + 1} unreadable)` : 'corrupt (no zip directory where it should be)';
    if (cd.readUInt32LE(at + 42) >= cdOffset && cd.readUInt32LE(at + 42) !== 0xffffffff) return `corrupt (zip directory entry ${n + 1} points past the files)`;
    at += 46 + cd.readUInt16LE(at + 28) + cd.readUInt16LE(at + 30) + cd.readUInt16LE(at + 32);
    n++;
  }
  if (at !== cd.length || (count !== 0xffff && n !== count)) return 'corrupt (the zip directory does not add up)';
  return null;
}
