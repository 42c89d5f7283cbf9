/** A kept wheel's `Requires-Dist`, read from its METADATA without installing it (bisect keeps subsets consistent with it). */
import { parseHeaders } from '../packaging/headers.js';
import { parseRequirement, type Requirement } from '../packaging/pep508.js';
import { readWheelMeta } from '../wheel/wheel-file.js';
import type { Wheelhouse } from './wheelhouse.js';

/** name, version -> requirements; null when the wheelhouse has no readable wheel of it. Cached. */
export function wheelRequires(wheelhouse: Wheelhouse): (name: string, version: string) => Requirement[] | null {
  const cache = new Map<string, Requirement[] | null>();
  return (name, version) => {
    const id = `${name}==${version}`;
    if (!cache.has(id)) cache.set(id, read(wheelhouse.find(name, version)));
    return cache.get(id)!;
  };
}

function read(path: string | null): Requirement[] | null {
  if (!path) return null;
  try {
    const meta = readWheelMeta(path);
    if (!meta) return null;
    const text = meta.metadata.replace(/\r\n?/g, '\n');
    const head = text.split('\n\n')[0] + '\n';
    const out: Requirement[] = [];
    for (const [k, v] of parseHeaders(head)) {
      if (k.toLowerCase() !== 'requires-dist') continue;
      try {
        out.push(parseRequirement(v));
      } catch {
        // An unreadable requirement does not block a bisect step.
      }
    }
    return out;
  } catch {
    return null;
  }
}
