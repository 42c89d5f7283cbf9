/** A small real file system to fill (a full disk, not an injected ENOSPC): tmpfs where mount is permitted. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/** Mount a tmpfs of `size` (e.g. '120m') at `mnt`; `why` says what stopped it when `mounted` is false. */
export function mountTmpfs(mnt: string, size: string): { mounted: boolean; why: string } {
  mkdirSync(mnt, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { encoding: 'utf8' });
  return { mounted: r.status === 0, why: (r.stderr || r.error?.message || '').trim() };
}

export function unmountTmpfs(mnt: string): void {
  spawnSync('umount', ['-l', mnt]);
}
