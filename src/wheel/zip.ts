/**
 * Minimal zip central-directory reader. fflate's unzip API hides the external attributes, and
 * pip sets the executable bit from them, so we read the directory here. Inflating uses Node's
 * native zlib: on pip's own wheel it takes 30 ms where fflate (pure JS, cold JIT) takes 190 ms.
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Unix mode from the external attributes (0 when the zip was made elsewhere). */
  mode: number;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const EOCD64_LOC = 0x07064b50;

export class ZipFormatError extends Error {}

export function readZipDirectory(buf: Buffer): ZipEntry[] {
  // The end record sits in the last 22 + up to 65535 (comment) bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('not a zip file (no end of central directory)');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  // Zip64: the classic fields are saturated and a zip64 end record says the truth.
  if (eocd >= 20 && buf.readUInt32LE(eocd - 20) === EOCD64_LOC) {
    const rec = Number(buf.readBigUInt64LE(eocd - 20 + 8));
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CEN) throw new ZipFormatError('corrupt central directory');
    const flags = buf.readUInt16LE(p + 8);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const nameBytes = buf.subarray(p + 46, p + 46 + nameLen);
    // Bit 11 says UTF-8; otherwise cp437, which for wheel names in practice is ASCII.
    const name = flags & 0x800 ? nameBytes.toString('utf8') : nameBytes.toString('latin1');
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    let localOffset = buf.readUInt32LE(p + 42);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      ({ compressedSize, size, localOffset } = zip64Extra(buf.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), { compressedSize, size, localOffset }));
    }
    entries.push({
      name,
      mode: buf.readUInt32LE(p + 38) >>> 16,
      method: buf.readUInt16LE(p + 10),
      compressedSize,
      size,
      crc: buf.readUInt32LE(p + 16),
      localOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function zip64Extra(extra: Buffer, v: { compressedSize: number; size: number; localOffset: number }) {
  for (let i = 0; i + 4 <= extra.length;) {
    const id = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    if (id === 1) {
      let q = i + 4;
      const next = () => {
        const x = Number(extra.readBigUInt64LE(q));
        q += 8;
        return x;
      };
      // Only the saturated fields are present, in this order.
      if (v.size === 0xffffffff) v.size = next();
      if (v.compressedSize === 0xffffffff) v.compressedSize = next();
      if (v.localOffset === 0xffffffff) v.localOffset = next();
      return v;
    }
    i += 4 + len;
  }
  return v;
}

/** The uncompressed bytes of one entry (stored or deflated, the only methods wheels use). */
export function readEntry(buf: Buffer, e: ZipEntry): Uint8Array {
  const p = e.localOffset;
  if (buf.readUInt32LE(p) !== LOC) throw new ZipFormatError(`corrupt local header for ${e.name}`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const raw = buf.subarray(start, start + e.compressedSize);
  if (e.method === 0) return raw;
  if (e.method === 8) {
    try {
      return inflateRawSync(raw);
    } catch (err) {
      throw new ZipFormatError(`${e.name}: ${(err as Error).message}`);
    }
  }
  throw new ZipFormatError(`${e.name}: unsupported compression method ${e.method}`);
}
