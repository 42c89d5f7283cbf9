/**
 * The fast lane of `pyctl status`: when the home is recorded, in sync and unlocked, everything
 * status shows comes from a few small files, so it answers without loading the command-line
 * parser, git or the freeze reader (its budget is a quarter of `pip freeze`). Anything unusual
 * (drift, a lock, a crash marker, a hand-made commit, config warnings or errors) returns false
 * and the full command runs instead, which records and reports it.
 */
import { existsSync, statSync } from 'node:fs';
import { loadConfig } from '../config/config.js';
import { readLastIfHead } from '../operations/last.js';
import { defaultHome, homePaths, systemHome } from '../paths.js';
import { paint, useColor } from '../render/color.js';
import { renderStatus } from '../render/status.js';
import { quickTier, statusData } from '../operations/status-data.js';
import { readTextOr } from '../fs/read-text.js';
import { crashMarkerPath } from '../gitstore/lock.js';
import { sitePackagesDir } from '../venv/syspath.js';

export async function fastStatus(args: string[]): Promise<boolean> {
  try {
    const paths = homePaths(defaultHome());
    if (existsSync(paths.lock) || existsSync(crashMarkerPath(paths.lock))) return false;
    const last = readLastIfHead(paths);
    if (!last || !existsSync(paths.venv)) return false;
    const stamp = readTextOr(paths.stamp)?.trim();
    if (!stamp || !/^\d+$/.test(stamp) || BigInt(stamp) !== statSync(sitePackagesDir(paths.venv), { bigint: true }).mtimeNs) return false;
    const { config, warnings } = loadConfig(paths.config);
    if (warnings.length) return false;
    const other = quickTier(homePaths(systemHome()));
    if (!other) return false;
    const color = !args.includes('--no-color') && useColor(process.stdout, config.ui.color);
    const out = renderStatus(statusData(paths, { packages: last.packages, last, inSync: true, system: false, other }), paint(color));
    process.stdout.write(args.includes('--json') ? JSON.stringify(out.json, null, 2) + '\n' : out.text);
    return true;
  } catch {
    return false; // the full command explains whatever went wrong
  }
}
