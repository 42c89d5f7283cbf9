/**
 * Open a wheel and check it before anything is written: one .dist-info, a WHEEL file of
 * version 1.x, and every file's sha256/size matching RECORD (files RECORD does not list are
 * checked against the zip's CRC instead). A wheel that fails is refused whole.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { PyctlError } from '../errors.js';
import { headerIn } from '../packaging/headers.js';
import { canonicalName } from '../packaging/names.js';
import { crc32 } from './crc32.js';
import { parseRecord, recordHash } from './record.js';
import { readEntry, readZipDirectory, type ZipEntry } from './zip.js';

export interface WheelFile {
  path: string;
  buf: Buffer;
  entries: ZipEntry[];
  /** Top-level `<name>-<ver>.dist-info` folder name inside the wheel. */
  infoDir: string;
  name: string;
  version: string;
  rootIsPurelib: boolean;
  /** Parsed RECORD rows of the wheel, as pip reads them. */
  record: string[][];
  /** sha256 (RECORD form) of every file entry, computed while verifying. */
  hashes: Map<string, string>;
  /** Decompressed contents, kept so they are inflated only once. */
  data: Map<string, Uint8Array>;
}

const bad = (wheel: string, why: string) =>
  new PyctlError('PIP_FAILED', `${basename(wheel)} is not a valid wheel: ${why}`, 'The file is damaged or not a wheel; download or rebuild it. Nothing was installed.');

/** `buf`: the file's bytes when the caller has read them already. */
export function openWheel(path: string, buf?: Buffer): WheelFile {
  try {
    buf ??= readFileSync(path);
  } catch (e) {
    throw new PyctlError('PIP_FAILED', `cannot read wheel ${path}: ${(e as Error).message}`);
  }
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(buf);
  } catch (e) {
    throw bad(path, (e as Error).message);
  }
  const tops = new Set(entries.map((e) => e.name.split('/')[0]).filter((t) => t.endsWith('.dist-info')));
  if (tops.size !== 1) throw bad(path, `expected one .dist-info directory, found ${tops.size}`);
  const infoDir = [...tops][0];
  const data = new Map<string, Uint8Array>();
  const hashes = new Map<string, string>();
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    let d: Uint8Array;
    try {
      d = readEntry(buf, e);
    } catch (err) {
      throw bad(path, `${e.name}: ${(err as Error).message}`);
    }
    if (d.length !== e.size) throw bad(path, `${e.name}: truncated data`);
    data.set(e.name, d);
  }
  const text = (p: string) => {
    const d = data.get(`${infoDir}/${p}`);
    return d ? Buffer.from(d).toString('utf8') : undefined;
  };
  const wheelMeta = text('WHEEL');
  const metadata = text('METADATA');
  const recordText = text('RECORD');
  if (!wheelMeta || !metadata || recordText === undefined) throw bad(path, `${infoDir} lacks WHEEL, METADATA or RECORD`);
  const wheelVersion = headerIn(wheelMeta, 'Wheel-Version');
  if (!/^1(\.|$)/.test(wheelVersion ?? '')) throw bad(path, `unsupported Wheel-Version ${wheelVersion}`);
  const name = headerIn(metadata, 'Name');
  const version = headerIn(metadata, 'Version');
  if (!name || !version) throw bad(path, 'METADATA lacks Name or Version');
  // pip's check: the canonical .dist-info name starts with the canonical project name.
  if (!canonicalName(infoDir).startsWith(canonicalName(name))) {
    throw bad(path, `${infoDir} does not match the project name ${name}`);
  }
  const record = parseRecord(recordText);
  const listed = new Map<string, string[]>();
  for (const row of record) listed.set(row[0], row);
  for (const e of entries) {
    const d = data.get(e.name);
    if (!d) continue;
    const h = recordHash(d);
    hashes.set(e.name, h);
    const row = listed.get(e.name);
    if (row && row[1]) {
      const [algo, digest] = row[1].split('=', 2);
      if (!['sha256', 'sha384', 'sha512'].includes(algo)) throw bad(path, `${e.name}: unsupported hash ${algo}`);
      const actual = algo === 'sha256' ? h.slice(7) : createHash(algo).update(d).digest('base64url');
      if (actual !== digest?.replace(/=+$/, '')) throw bad(path, `${e.name}: hash does not match RECORD`);
      if (row[2] && Number(row[2]) !== d.length) throw bad(path, `${e.name}: size does not match RECORD`);
    } else if (crc32(d) >>> 0 !== e.crc) {
      throw bad(path, `${e.name}: CRC check failed`);
    }
  }
  return { path, buf, entries, infoDir, name, version, rootIsPurelib: (headerIn(wheelMeta, 'Root-Is-Purelib') ?? '').trim().toLowerCase() === 'true', record, hashes, data };
}

/**
 * A wheel's METADATA and WHEEL texts without reading or verifying the whole file (for judging
 * whether it fits an interpreter before anything is installed): the zip's end record and central
 * directory, then the two entries, by positional reads. Null when it cannot be read as a wheel.
 */
export function readWheelMeta(path: string): { metadata: string; wheel: string } | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const at = (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      if (readSync(fd!, b, 0, len, pos) !== len) throw new Error('short read');
      return b;
    };
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = at(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    if (eocd < 0) return null;
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    let entries: ZipEntry[];
    if (cdOffset === 0xffffffff || cdSize === 0xffffffff || tail.readUInt16LE(eocd + 10) === 0xffff) {
      entries = readZipDirectory(readFileSync(path)); // zip64: rare for wheels, read it all
    } else {
      const end = Buffer.from(tail.subarray(eocd, eocd + 22));
      end.writeUInt32LE(0, 16); // the directory now starts the buffer
      entries = readZipDirectory(Buffer.concat([at(cdOffset, cdSize), end]));
    }
    const pick = (n: string) => entries.find((e) => /^[^/]+\.dist-info\/[^/]+$/.test(e.name) && e.name.endsWith(`/${n}`));
    const text = (e: ZipEntry) => {
      const head = at(e.localOffset, 30);
      const local = at(e.localOffset, 30 + head.readUInt16LE(26) + head.readUInt16LE(28) + e.compressedSize);
      return Buffer.from(readEntry(local, { ...e, localOffset: 0 })).toString('utf8');
    };
    const md = pick('METADATA');
    const wh = pick('WHEEL');
    return md && wh ? { metadata: text(md), wheel: text(wh) } : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
