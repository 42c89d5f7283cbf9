/**
 * Minimal zip writer for rebuilt wheels, deflating with Node's native zlib. fflate's zipSync
 * (pure JS) spent ~1.1 s deflating pip's and setuptools' files on every `pyctl init`; native
 * zlib at level 6 does the same in a fraction of that. Stored instead when deflate does not help.
 */
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Unix mode, e.g. 0o100644; written into the external attributes (pip reads the x bit). */
  mode: number;
}

function dosDateTime(d: Date): [number, number] {
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return [time, date];
}

/** A zip of `entries`; `comment` is the archive comment (installers ignore it). */
export function writeZip(entries: ZipInput[], mtime: Date, level = 6, comment = ''): Buffer {
  const [time, date] = dosDateTime(mtime);
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const raw = e.data;
    const deflated = raw.length > 64 ? zlib.deflateRawSync(raw, { level }) : null;
    const stored = !deflated || deflated.length >= raw.length;
    const body = stored ? raw : deflated;
    const crc = crc32(raw);
    const method = stored ? 0 : 8;
    const utf8 = /[^\x00-\x7f]/.test(e.name) ? 0x800 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(utf8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE((3 << 8) | 20, 4); // made by Unix: external attributes hold the mode
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(utf8, 8);
    cen.writeUInt16LE(method, 10);
    cen.writeUInt16LE(time, 12);
    cen.writeUInt16LE(date, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(body.length, 20);
    cen.writeUInt32LE(raw.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(((e.mode & 0xffff) << 16) >>> 0, 38);
    cen.writeUInt32LE(offset, 42);
    chunks.push(local, name, Buffer.from(body.buffer, body.byteOffset, body.length));
    central.push(cen, name);
    offset += 30 + name.length + body.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  const note = Buffer.from(comment, 'utf8');
  end.writeUInt16LE(note.length, 20);
  return Buffer.concat([...chunks, ...central, end, note]);
}
