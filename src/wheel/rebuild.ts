/**
 * Rebuild a wheel from an installed .dist-info and its RECORD, so a package can be reinstalled
 * offline after its original wheel is gone. The inverse of install: installer-written files
 * (INSTALLER, REQUESTED, direct_url.json, RECORD, .pyc, entry point wrappers) are left out
 * because installing regenerates them; files outside site-packages go back under .data/.
 */
import { closeSync, fstatSync, lstatSync, openSync, readFileSync, readSync, mkdirSync } from 'node:fs';
import { writeAtomic } from '../fs/durable.js';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { formatRecordInOrder, parseRecord, recordHash } from './record.js';
import { consoleScriptSpecs, parseEntryPoints } from './scripts.js';
import { headerIn } from '../packaging/headers.js';
import { writeZip, type ZipInput } from './zip-write.js';

const DROP_META = new Set(['INSTALLER', 'REQUESTED', 'direct_url.json', 'RECORD']);
// Fixed timestamp: the same installed files rebuild to the same bytes.
const MTIME = new Date(1980, 0, 2);
/**
 * The archive comment of every rebuilt wheel: its sha256 is not the original download's, and
 * restore must tell it from a kept original whose hash has to match the recorded one.
 */
export const REBUILT_MARK = 'pyctl: rebuilt from installed files (not the original download)';

/** Whether a wheel file is one pyctl rebuilt (its zip comment says so; reads only the file's tail). */
export function isRebuiltWheel(path: string): boolean {
  const want = Buffer.from(REBUILT_MARK, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size < want.length + 22) return false;
    const tail = Buffer.alloc(want.length + 22);
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.readUInt32LE(0) === 0x06054b50 && tail.readUInt16LE(20) === want.length && tail.subarray(22).equals(want);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function inside(dir: string, p: string): string | null {
  const r = relative(dir, p);
  return r && !r.startsWith('..') && !r.startsWith('/') ? r.split('\\').join('/') : null;
}

/** `Tag:` lines of WHEEL compressed into the file name's tag triple (py2.py3-none-any). */
function wheelTag(tags: string[]): string {
  const parts = [0, 1, 2].map((i) => [...new Set(tags.map((t) => t.split('-')[i]))].join('.'));
  return parts.join('-');
}

/**
 * `locate`: where the file installed at an absolute venv path can be read now (a stored
 * package's copy in the link store, after the venv let go of it); default: that path itself.
 */
export function rebuildWheel(venv: string, distInfoDir: string, outDir: string, locate: (abs: string) => string = (p) => p): string {
  const location = dirname(distInfoDir);
  const info = basename(distInfoDir);
  const stem = info.replace(/\.dist-info$/, '');
  const read = (n: string) => readFileSync(locate(join(distInfoDir, n)), 'utf8');
  let recordText: string, wheelText: string;
  try {
    recordText = read('RECORD');
    wheelText = read('WHEEL');
  } catch {
    throw new PyctlError('VENV_BROKEN', `cannot rebuild a wheel from ${info}: RECORD or WHEEL missing`, 'Reinstall the package with pip so its metadata is complete.');
  }
  const tags = wheelText
    .split(/\r?\n/)
    .filter((l) => /^Tag:/i.test(l))
    .map((l) => l.slice(4).trim());
  if (!tags.length) throw new PyctlError('VENV_BROKEN', `${info}/WHEEL has no Tag line`, 'Reinstall the package with pip.');
  const name = headerIn(read('METADATA'), 'Name') ?? stem.split('-')[0];
  const pyXY = /lib\/python(\d+\.\d+)\//.exec(location + '/')?.[1] ?? '3';
  let ep = { console: new Map<string, string>(), gui: new Map<string, string>() };
  try {
    ep = parseEntryPoints(read('entry_points.txt'));
  } catch {
    // none
  }
  const wrappers = new Set([...consoleScriptSpecs(ep.console, pyXY).map(([n]) => n), ...ep.gui.keys()]);
  const bin = join(resolve(venv), 'bin');
  const headers = join(resolve(venv), 'include', 'site', `python${pyXY}`, name);
  const files: ZipInput[] = [];
  const seen = new Set<string>();
  const rows: [string, string, string][] = [];
  const add = (arc: string, data: Uint8Array, mode: number) => {
    if (seen.has(arc)) return;
    seen.add(arc);
    const exec = (mode & 0o111) !== 0;
    files.push({ name: arc, data, mode: exec ? 0o100755 : 0o100644 });
    rows.push([arc, recordHash(data), String(data.length)]);
  };
  for (const row of parseRecord(recordText)) {
    const rp = row[0];
    if (!rp || rp.endsWith('.pyc') || rp.endsWith('.pyo') || rp.includes('__pycache__/')) continue;
    const abs = resolve(location, rp);
    const inSite = inside(location, abs);
    if (inSite !== null && inSite.startsWith(info + '/') && DROP_META.has(inSite.slice(info.length + 1))) continue;
    let st;
    try {
      st = lstatSync(locate(abs));
    } catch {
      // pip keeps RECORD rows of .data/scripts wrappers it skipped, untranslated and not on disk:
      // carry them as they are, so a reinstall writes the same RECORD (installers skip them again).
      if (rp.split('/')[0].endsWith('.data')) {
        rows.push([rp, row[1] ?? '', row[2] ?? '']);
        continue;
      }
      throw new PyctlError('VENV_BROKEN', `cannot rebuild ${stem}: ${rp} listed in RECORD is missing`, `Reinstall ${name} with pip to repair it.`);
    }
    if (!st.isFile()) continue;
    let data: Uint8Array = readFileSync(locate(abs));
    if (inSite !== null) {
      add(inSite, data, st.mode);
      continue;
    }
    const inBin = inside(bin, abs);
    if (inBin !== null) {
      if (wrappers.has(inBin)) continue; // regenerated from entry_points.txt
      // Undo pip's fix_script: `#!<venv python>` goes back to `#!python`.
      const buf = Buffer.from(data);
      const nl = buf.indexOf(10);
      const first = buf.subarray(0, nl < 0 ? buf.length : nl).toString('utf8');
      if (first.startsWith('#!') && inside(bin, first.slice(2).trim()) !== null && /python[\d.]*$/.test(first)) {
        data = Buffer.concat([Buffer.from('#!python\n'), nl < 0 ? Buffer.alloc(0) : buf.subarray(nl + 1)]);
      }
      add(`${stem}.data/scripts/${inBin}`, data, st.mode);
      continue;
    }
    const inHeaders = inside(headers, abs);
    if (inHeaders !== null) {
      add(`${stem}.data/headers/${inHeaders}`, data, st.mode);
      continue;
    }
    const inVenv = inside(resolve(venv), abs);
    if (inVenv === null) {
      throw new PyctlError('VENV_BROKEN', `cannot rebuild ${stem}: ${rp} lies outside the venv`, `Reinstall ${name} with pip.`);
    }
    add(`${stem}.data/data/${inVenv}`, data, st.mode);
  }
  const record = `${info}/RECORD`;
  rows.push([record, '', '']);
  const recordData = Buffer.from(formatRecordInOrder(rows));
  files.push({ name: record, data: recordData, mode: 0o100644 });
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${stem}-${wheelTag(tags)}.whl`);
  // Temp file + rename: a full disk leaves no truncated wheel behind to be installed later. Not
  // flushed: one a power cut empties is found damaged (wheelhouse/intact.ts) and fetched instead.
  writeAtomic(out, writeZip(files, MTIME, 6, REBUILT_MARK), { sync: false });
  return out;
}
