/**
 * Kept wheels (the wheelhouse): damaged ones, as `pyctl wheelhouse` reports them (a truncated
 * zip, a recorded original whose sha256 is not the recorded one), and files that fail the
 * zip's CRC or the wheel's RECORD (doctor inflates every wheel whose bytes it has not found
 * whole before: wheelhouse/whole.ts). undo and restore never install
 * a damaged wheel; the fix removes each and makes it again from its stored package when one is
 * intact (else the version comes from the index through pip when it is needed).
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { knownFiles, originsAt } from '../../operations/provenance.js';
import { parseWheelName } from '../../packaging/wheel-name.js';
import { checkStored, readStored } from '../../wheel/package-store.js';
import { userCache } from '../../paths.js';
import { Wheelhouse } from '../../wheelhouse/wheelhouse.js';
import { WholeWheels } from '../../wheelhouse/whole.js';
import type { Check } from '../check.js';
import type { Scan } from '../scan.js';

async function damaged(scan: Scan) {
  const wh = new Wheelhouse(scan.paths.wheelhouse);
  const whole = WholeWheels.inCache(userCache());
  return { wh, bad: wh.damagedWheels({ known: knownFiles(await originsAt(scan.home)), full: true, whole }) };
}

export const wheelhouse: Check = {
  name: 'wheelhouse',
  reads: ['wheelhouse'],
  async run(scan) {
    const { wh, bad } = await damaged(scan);
    if (!bad.length) return { status: 'ok', message: `${wh.size().wheels} kept wheel(s), each whole`, fix: null };
    return {
      status: 'problem',
      message: `${bad.length} kept wheel(s) are damaged and never used: ${bad.map((d) => `${basename(d.path)}: ${d.why}`).join('; ')}`,
      fix: 'remove them, and make each again from its stored package when that is intact (else undo/restore fetch the version through pip)',
      fixable: true,
    };
  },
  fix: {
    writes: ['wheelhouse'],
    async apply(scan) {
      const { bad } = await damaged(scan);
      const dirs = { files: scan.paths.store, packages: scan.paths.packages };
      const fresh = new Wheelhouse(scan.paths.wheelhouse);
      const remade: string[] = [];
      for (const d of bad) rmSync(d.path, { force: true });
      for (const d of bad) {
        const w = parseWheelName(d.path);
        const e = w ? readStored(dirs, w.key, w.version) : null;
        const p = e && checkStored(dirs, e, true).ok ? fresh.fromStored(dirs, e) : null;
        if (p) remade.push(basename(p));
      }
      return `removed ${bad.length} damaged wheel(s)${remade.length ? `; made again from stored packages: ${remade.join(', ')}` : ''}`;
    },
  },
};
