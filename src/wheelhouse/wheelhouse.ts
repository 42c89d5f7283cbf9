/**
 * The wheelhouse (<home>/wheelhouse): a wheel of every version the venv has held, so undo and
 * restore work offline. Wheels are rebuilt from the installed files when a package appears
 * (the original download is pip's and may be gone), and fetched through pip only when missing.
 */
import { copyFileSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Installed } from '../venv/freeze.js';
import { rebuildWheel } from '../wheel/rebuild.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';

export class Wheelhouse {
  private index?: Map<string, string>;
  constructor(readonly dir: string) {}

  private load(): Map<string, string> {
    if (this.index) return this.index;
    this.index = new Map();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir);
    } catch {
      // Not made yet.
    }
    for (const f of files) {
      const w = parseWheelName(f);
      if (w) this.index.set(`${w.key}==${w.version}`, join(this.dir, f));
    }
    return this.index;
  }

  find(name: string, version: string): string | null {
    return this.load().get(wheelKey(name, version)) ?? null;
  }

  /** Keep a copy of a wheel file (e.g. one pip downloaded for a restore). */
  add(path: string, move = false): string {
    mkdirSync(this.dir, { recursive: true });
    const w = parseWheelName(path);
    const dest = join(this.dir, w?.file ?? path.slice(path.lastIndexOf('/') + 1));
    if (move) renameSync(path, dest);
    else copyFileSync(path, dest);
    if (w) this.load().set(`${w.key}==${w.version}`, dest);
    return dest;
  }

  /** Whether an installed distribution can be rebuilt into a wheel (plain dist-info, not editable). */
  static capturable(d: Installed): boolean {
    return d.format === 'dist-info' && !d.editable && !(d.directUrl && 'dir_info' in d.directUrl);
  }

  /** Rebuild wheels for installed distributions the wheelhouse lacks. Returns how many were made. */
  capture(venv: string, dists: Installed[]): number {
    let made = 0;
    for (const d of dists) {
      if (!Wheelhouse.capturable(d) || this.find(d.name, d.version)) continue;
      mkdirSync(this.dir, { recursive: true });
      try {
        const path = rebuildWheel(venv, d.infoPath, this.dir);
        const w = parseWheelName(path);
        if (w) this.load().set(`${w.key}==${w.version}`, path);
        made++;
      } catch {
        // A distribution whose RECORD is broken cannot be rebuilt; restore will fetch it instead.
      }
    }
    return made;
  }

  /** Total size in bytes and number of wheels. */
  size(): { bytes: number; wheels: number } {
    let bytes = 0;
    const all = [...this.load().values()];
    for (const p of all) {
      try {
        bytes += statSync(p).size;
      } catch {
        // removed meanwhile
      }
    }
    return { bytes, wheels: all.length };
  }

  files(): Map<string, string> {
    return new Map(this.load());
  }
}

/**
 * Keep the wheels a new venv was seeded from (ensurepip's pip/setuptools) as they are: the
 * installed files came from exactly these, so rebuilding them (~1 s for pip) is wasted work.
 */
export function seedWheelhouse(dir: string, wheels: string[]): void {
  const house = new Wheelhouse(dir);
  for (const w of wheels) {
    const n = parseWheelName(w);
    if (!n || house.find(n.key, n.version)) continue;
    try {
      house.add(w);
    } catch {
      // Unreadable: the record rebuilds it from the installed files instead.
    }
  }
}
