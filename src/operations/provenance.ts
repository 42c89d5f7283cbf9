/**
 * The provenance a state knows: the home's catalogue (provenance.txt) under the entries a commit
 * carried (a fetched snapshot brings its own), and the recorded originals' hashes as restore
 * checks them (reconcile/sources.ts).
 */
import { readTextOr } from '../fs/read-text.js';
import { PROVENANCE_FILE } from '../paths.js';
import { mergeOrigins, parseOrigins, type Origins } from '../provenance/origins.js';
import type { KnownFile, KnownFiles } from '../reconcile/sources.js';
import type { Home } from './home.js';

export async function originsAt(home: Home, commit?: string): Promise<Origins> {
  const at = commit ? await home.repo.readAt(commit, PROVENANCE_FILE).catch(() => null) : null;
  return mergeOrigins(parseOrigins(readTextOr(home.paths.provenance) ?? ''), parseOrigins(at ?? ''));
}

/** Each version's original file and sha256, where pip reported one. */
export function knownFiles(origins: Origins): Map<string, KnownFile[]> {
  const out = new Map<string, KnownFile[]>();
  for (const [key, o] of origins) if (o.kind === 'archive' && o.sha256 && o.file) out.set(key, [{ file: o.file, sha256: o.sha256 }]);
  return out;
}

/** Several sources of known files, later ones added to earlier ones. */
export function mergeKnown(...layers: (KnownFiles | undefined)[]): Map<string, KnownFile[]> {
  const out = new Map<string, KnownFile[]>();
  for (const layer of layers) for (const [k, v] of layer ?? []) out.set(k, [...(out.get(k) ?? []), ...v]);
  return out;
}
