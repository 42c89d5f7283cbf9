/**
 * What the recorded pip commands asked for, by name: the extras (`pip install 'black[d]'`) and
 * the last command that named each package. pip keeps neither (REQUESTED is an empty file), so
 * `why` reads them back from the history.
 */
import { namedRequirements, subjectWords } from '../pip/args.js';
import type { Home } from './home.js';

export interface Asked {
  extras: Set<string>;
  /** The newest recorded command that named the package. */
  command: string;
}

export async function askedFor(home: Home): Promise<Map<string, Asked>> {
  const out = new Map<string, Asked>();
  for await (const c of home.repo.walk()) {
    const meta = c.parsed.meta;
    if (meta?.kind !== 'install' || meta.status === 'failed') continue;
    const words = subjectWords(c.parsed.subject);
    if (words[0] !== 'pip') continue;
    for (const [key, extras] of namedRequirements(words.slice(1))) {
      const have = out.get(key);
      if (have) for (const e of extras) have.extras.add(e);
      else out.set(key, { extras: new Set(extras), command: c.parsed.subject });
    }
  }
  return out;
}
