/**
 * The sha256s of wheel files that passed doctor's full check (every file inflated against the
 * zip's CRC and the wheel's RECORD), remembered per user (`~/.cache/pyctl/whole-wheels-v1`).
 * That check depends on the bytes alone, so a file whose sha256 is remembered is a whole wheel:
 * doctor hashes it (pip's wheel: ~3 ms) instead of inflating it again (~90 ms), and a bit flipped
 * anywhere in the file changes the hash, so it is inflated and checked again. The same pip and
 * setuptools wheels sit in every home's wheelhouse, hence per user, not per home. The file's
 * name carries the check's version: a stricter check starts from an empty list.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceViaTemp } from '../fs/durable.js';

/** Enough for every wheel a user keeps; the oldest are forgotten first (they are checked again). */
const KEEP = 20_000;

export class WholeWheels {
  private known?: Set<string>;
  private added = false;
  constructor(readonly file: string) {}

  /** In the per-user cache folder (~/.cache/pyctl). */
  static inCache(cacheDir: string): WholeWheels {
    return new WholeWheels(join(cacheDir, 'whole-wheels-v1'));
  }

  private load(): Set<string> {
    return (this.known ??= this.read());
  }

  private read(): Set<string> {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // none yet
    }
    // A torn or edited line is not a digest and is skipped: that wheel is only checked in full.
    return new Set(text.split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l)));
  }

  /** Whether a file with this sha256 (hex) passed the full check. */
  has(sha256: string): boolean {
    return this.load().has(sha256);
  }

  /** Remember that a file with this sha256 passed the full check (saved by `save`). */
  add(sha256: string): void {
    const known = this.load();
    if (known.has(sha256)) return;
    known.add(sha256);
    this.added = true;
  }

  /** Write what was added; an unwritable cache only costs the next check its inflating. */
  save(): void {
    if (!this.added) return;
    this.added = false;
    // What another pyctl added meanwhile is kept too.
    const all = [...new Set([...this.read(), ...this.load()])].slice(-KEEP);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      replaceViaTemp(this.file, (tmp) => writeFileSync(tmp, all.map((d) => `${d}\n`).join('')));
    } catch {
      // read-only or full: nothing is lost but speed
    }
  }
}
