/** What a finished (or recovered) run must not leave in a home. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Temp files of atomic writes (`*.tmp-<pid>`, `*.new-<pid>`) and install journals anywhere under `dir`.
 * A venv moved to `venv.trash-*` is garbage a background process is deleting while we look, so it is
 * not walked (walking it races the delete: ENOENT).
 */
export function tempLeftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!/^venv\.trash-/.test(e.name)) walk(p);
      } else if (/\.(tmp|new)-\d+(-\d+)?$|^\.pyctl-install-\d+\.json$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}
