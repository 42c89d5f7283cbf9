/**
 * Read a file the user names (restore --file, init --from): bounded, so `/dev/zero`, a huge
 * file or an endless pipe is refused after MAX bytes instead of filling memory or spinning.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PyctlError, fsProblem } from './errors.js';

/** 8 MiB: a requirements file of 100,000 pinned lines with hashes is ~5 MiB. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

export function readInputFile(file: string, max = MAX_INPUT_BYTES): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new PyctlError('USAGE', `cannot read ${file}: ${fsProblem(e)}`, 'give the path of a requirements or freeze file');
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw new PyctlError('USAGE', `cannot read ${file}: ${fsProblem(e)}`, 'give the path of a requirements or freeze file');
      }
      if (n === 0) break;
      total += n;
      if (total > max) {
        throw new PyctlError('USAGE', `${file} is larger than ${max / 1024 / 1024} MiB; not a requirements file`, 'give the path of a requirements or freeze file (pip freeze > requirements.txt)');
      }
      const chunk = buf.subarray(0, n);
      // Text never holds NUL: /dev/zero or a binary file is refused at its first block.
      if (chunk.includes(0)) throw new PyctlError('USAGE', `${file} holds binary data (NUL bytes); not a requirements file`, 'give the path of a requirements or freeze file');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
