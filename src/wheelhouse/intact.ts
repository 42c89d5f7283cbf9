/**
 * Whether a kept wheel is whole. A wheel truncated by a full disk or a crash (written in place
 * by older versions) must never be installed: it fails as "not a zip file" half-way through an
 * undo. The end-of-central-directory record is the last thing written, so reading the file's
 * tail (~65 KB at most, ~50 µs) tells a truncated wheel from a whole one.
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
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, cdOffset);
    if (cdSize > 0 && head.readUInt32LE(0) !== CEN) return 'corrupt (no zip directory where it should be)';
    return null;
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  } finally {
    closeSync(fd);
  }
}
