/** A small text file read whole, or a fallback when it is missing or unreadable (caches, markers, runtime files). */
import { readFileSync } from 'node:fs';

export function readTextOr(path: string, fallback: string | null = null): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
