/** The line diff of two freeze files, git-style. The only user of the `diff` package. */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { Paint } from './color.js';

export function unifiedFreezeDiff(before: string, after: string, fromLabel: string, toLabel: string, p: Paint): string {
  const patch = createTwoFilesPatch(`a/freeze.txt (${fromLabel})`, `b/freeze.txt (${toLabel})`, before, after, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
  });
  return patch
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? p.green(l) : l.startsWith('-') && !l.startsWith('---') ? p.red(l) : l.startsWith('@@') ? p.dim(l) : l))
    .join('\n');
}
