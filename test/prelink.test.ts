/**
 * Files linked into the store while pip still compiles (wheel/prelink.ts) and the store of the
 * final RECORD that takes them (package-store.ts storePackage): real files and real links in a
 * temp dir laid out as a venv, written in pip's order (sources, the wheel's RECORD, .pyc files by
 * rename, the final RECORD). No Python needed: what is checked is the store's result.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from './helpers/env.js';
import { dropUnused, prelinkFile, type EarlyFile, type Prelinked } from '../src/wheel/prelink.js';
import { storePackage } from '../src/wheel/package-store.js';
import { storeName } from '../src/wheel/store-names.js';
import type { Installed } from '../src/venv/freeze.js';

let root: string;
beforeAll(() => {
  root = tempDir('pyctl-prelink-');
});
afterAll(() => removeDir(root));

const SITE_REL = 'lib/python3.11/site-packages';
const INFO = 'pk-1.0.dist-info';
const b64 = (buf: Buffer) => createHash('sha256').update(buf).digest('base64url');
const row = (p: string, buf: Buffer) => `${p},sha256=${b64(buf)},${buf.length}`;

/** A venv with pk 1.0 unpacked as pip leaves it before compiling: sources and the wheel's RECORD (last). */
function unpacked(tag: string) {
  const venv = join(root, tag, 'venv');
  const site = join(venv, SITE_REL);
  const src: Record<string, Buffer> = {
    'pk/__init__.py': Buffer.from(''),
    'pk/mod.py': Buffer.from('X = 1\n'.repeat(200)),
    'pk/tool.sh': Buffer.from('#!/bin/sh\necho hi\n'),
    'pk/data/empty.py': Buffer.from(''),
    [`${INFO}/METADATA`]: Buffer.from('Metadata-Version: 2.1\nName: pk\nVersion: 1.0\n\n'),
    [`${INFO}/WHEEL`]: Buffer.from('Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
  };
  for (const [p, buf] of Object.entries(src)) {
    mkdirSync(join(site, p, '..'), { recursive: true });
    writeFileSync(join(site, p), buf);
  }
  const wheelRecord = [...Object.entries(src).map(([p, buf]) => row(p, buf)), `${INFO}/RECORD,,`, ''].join('\n');
  writeFileSync(join(site, INFO, 'RECORD'), wheelRecord);
  const store = join(root, tag, 'store');
  mkdirSync(store, { recursive: true });
  const d: Installed = { name: 'pk', key: 'pk', version: '1.0', line: 'pk==1.0', distPath: join(site, INFO), format: 'dist-info', editable: false, requested: true, infoPath: join(site, INFO) };
  return { venv, site, src, store, base: join(store, sep), d, dirs: { files: store, packages: join(root, tag, 'packages') } };
}

/** A source as the early keeper sees it in the wheel's RECORD. */
const early = (site: string, p: string, buf: Buffer): EarlyFile => ({ abs: join(site, p), inVenv: `${SITE_REL}/${p}`, sha: b64(buf), size: buf.length });

/** pip's .pyc: written beside, renamed into place. */
function compile(site: string, p: string): string {
  const pyc = p.replace(/([^/]+)\.py$/, '__pycache__/$1.cpython-311.pyc');
  mkdirSync(join(site, pyc, '..'), { recursive: true });
  writeFileSync(join(site, `${pyc}.tmp`), randomBytes(64));
  renameSync(join(site, `${pyc}.tmp`), join(site, pyc));
  return pyc;
}

/** pip's last writes: INSTALLER, then the final RECORD (every row, .pyc without a hash). */
function finish(site: string, src: Record<string, Buffer>, pycs: string[]): void {
  writeFileSync(join(site, INFO, 'INSTALLER'), 'pip\n');
  const rows = [...Object.entries(src).map(([p, buf]) => row(p, buf)), ...pycs.map((p) => `${p},,`), row(`${INFO}/INSTALLER`, Buffer.from('pip\n')), `${INFO}/RECORD,,`, ''];
  writeFileSync(join(site, INFO, 'RECORD.tmp'), rows.join('\n'));
  renameSync(join(site, INFO, 'RECORD.tmp'), join(site, INFO, 'RECORD'));
}

describe('files linked while pip compiles', () => {
  it('the final store takes them as linked: the same entry as a store made after pip, one copy per file', () => {
    const a = unpacked('same');
    const pre: Prelinked = new Map();
    // A source still being written (its size short of RECORD's) waits; the others are linked.
    const full = a.src['pk/mod.py'];
    writeFileSync(join(a.site, 'pk/mod.py'), full.subarray(0, 100));
    for (const [p, buf] of Object.entries(a.src)) if (!p.startsWith(INFO)) prelinkFile(a.base, early(a.site, p, buf), pre);
    // The two empty files share one name, which holds the first one's inode: the second is left to the final pass.
    expect([...pre.keys()].sort()).toEqual([`${SITE_REL}/pk/__init__.py`, `${SITE_REL}/pk/tool.sh`]);
    writeFileSync(join(a.site, 'pk/mod.py'), full);
    expect(prelinkFile(a.base, early(a.site, 'pk/mod.py', full), pre)).toBe(true);
    const pycs = ['pk/__init__.py', 'pk/data/empty.py', 'pk/mod.py'].map((p) => compile(a.site, p));
    // A .pyc is complete once its name exists; one not written yet is "try again".
    expect(prelinkFile(a.base, { abs: join(a.site, 'pk/__pycache__/nope.cpython-311.pyc'), inVenv: 'x', sha: '', size: -1 }, pre)).toBe(false);
    for (const p of pycs) expect(prelinkFile(a.base, { abs: join(a.site, p), inVenv: `${SITE_REL}/${p}`, sha: '', size: -1 }, pre)).toBe(true);
    finish(a.site, a.src, pycs);

    const withEarly = storePackage(a.dirs, a.venv, a.d, '3.11', { trusted: true, prelinked: pre })!;
    const b = { ...a, store: join(root, 'same', 'store-after'), dirs: { files: join(root, 'same', 'store-after'), packages: join(root, 'same', 'packages-after') } };
    const after = storePackage(b.dirs, b.venv, b.d, '3.11', { trusted: true })!;
    expect(withEarly.files).toEqual(after.files);
    // Each stored file is the venv's very file, under the name its row gives it.
    for (const [path, name, , , mode, sha] of withEarly.files) {
      const st = statSync(join(a.store, name));
      if (!path.endsWith('data/empty.py')) expect(st.ino).toBe(statSync(join(a.venv, path)).ino);
      expect(name).toBe(storeName(sha, statSync(join(a.venv, path)), mode));
    }
    expect(readdirSync(a.store).sort()).toEqual(readdirSync(b.store).sort());
  });

  it('a file whose mode pip set after it was linked (an executable) is stored under its final mode; the early name goes', () => {
    const a = unpacked('mode');
    const pre: Prelinked = new Map();
    const tool = a.src['pk/tool.sh'];
    prelinkFile(a.base, early(a.site, 'pk/tool.sh', tool), pre);
    const earlyName = pre.get(`${SITE_REL}/pk/tool.sh`)!.name;
    expect(earlyName).toMatch(/\.644$/);
    chmodSync(join(a.site, 'pk/tool.sh'), 0o755); // pip's chmod, after the link
    finish(a.site, a.src, []);
    const e = storePackage(a.dirs, a.venv, a.d, '3.11', { trusted: true, prelinked: pre })!;
    const f = e.files.find((x) => x[0].endsWith('pk/tool.sh'))!;
    expect(f[4]).toBe(0o755);
    expect(f[1]).toMatch(/\.755$/);
    expect(statSync(join(a.store, f[1])).mode & 0o777).toBe(0o755);
    expect(existsSync(join(a.store, earlyName))).toBe(false);
  });

  it('a store name another file already holds is left alone; early links of a package not stored go (pip failed), others stay', () => {
    const a = unpacked('failed');
    const mod = a.src['pk/mod.py'];
    // An older stored version's file with the same content and mode: another inode.
    const older = join(root, 'failed', 'older.py');
    writeFileSync(older, mod);
    const name = storeName(b64(mod), statSync(older), 0o644);
    linkSync(older, join(a.store, name));
    const pre: Prelinked = new Map();
    expect(prelinkFile(a.base, early(a.site, 'pk/mod.py', mod), pre)).toBe(true);
    expect(pre.has(`${SITE_REL}/pk/mod.py`)).toBe(false);
    expect(statSync(join(a.store, name)).ino).toBe(statSync(older).ino);
    prelinkFile(a.base, early(a.site, 'pk/__init__.py', a.src['pk/__init__.py']), pre);
    const made = pre.get(`${SITE_REL}/pk/__init__.py`)!.name;
    expect(existsSync(join(a.store, made))).toBe(true);
    dropUnused(pre, a.base, new Set());
    expect(existsSync(join(a.store, made))).toBe(false);
    expect(statSync(join(a.store, name)).ino).toBe(statSync(older).ino);
  });
});
