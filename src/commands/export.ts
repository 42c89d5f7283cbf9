/**
 * pyctl export [NAME|N] [--hashes] [--format pylock] [-o FILE]: a requirements file (or a PEP 751
 * pylock.toml, see provenance/lock-packages.ts) for a recorded state that
 * `pip install -r` accepts: the freeze lines as recorded (direct URLs and editables included),
 * under a header naming the state. --hashes pins each version's sha256 for
 * `pip install --require-hashes -r`: the recorded hash of the file pip installed (provenance.txt),
 * else the index's files' hashes, else (said in a comment) the kept wheel's.
 */
import { writeFileSync } from 'node:fs';
import { sha256File } from '../sha256.js';
import { resolve } from 'node:path';
import { PyctlError, fsProblem, usage } from '../errors.js';
import { venvMarkerEnv } from '../deps/graph.js';
import { isPylockName, renderPylock } from '../packaging/pylock.js';
import { lockPackages } from '../provenance/lock-packages.js';
import { wheelKey } from '../packaging/wheel-name.js';
import { canonicalName } from '../packaging/names.js';
import { indexFiles, pipIndexUrls, type VersionFile } from '../provenance/index.js';
import type { Origins } from '../provenance/origins.js';
import { resolveState } from '../operations/history.js';
import { shortDate } from '../render/time.js';
import { directUrl, editableTarget, parseFreeze, requirementLine } from '../packaging/parse-freeze.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { keptWheel } from '../reconcile/sources.js';
import type { StoreDirs } from '../wheel/package-store.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';
import { originsAt } from '../operations/provenance.js';

export interface ExportOptions {
  hashes?: boolean;
  output?: string;
  /** requirements (default) or pylock (PEP 751). */
  format?: string;
}

/** Installed by venv creation itself; without a recorded origin they have no index hash. */
const SEED = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

/** Where export --hashes finds a version's sha256, best first. */
export interface HashSources {
  /** Recorded provenance: the hash of the very file pip installed. */
  origins: Origins;
  /** The index's files for a version (PEP 503/691), asked only when nothing is recorded. */
  index: (name: string, version: string) => Promise<VersionFile[]>;
  /** Last resort: the wheel pyctl kept, or one built now from the stored package. */
  wheelhouse: Wheelhouse;
  /** The stored packages (a wheel is built from one when the wheelhouse has none). */
  stored?: StoreDirs;
}

/** The requirement lines of a freeze text (with hashes when sources are given). */
export async function requirementLines(freeze: string, sources: HashSources | null): Promise<string[]> {
  const entries = [...parseFreeze(freeze).values()];
  if (!sources) return entries.map((e) => e.line);
  const missing: string[] = [];
  const unhashable: string[] = [];
  const out: string[] = [];
  const hashed = (line: string, hashes: string[]) => `${line} \\\n${hashes.map((h) => `    --hash=sha256:${h}`).join(' \\\n')}`;
  for (const e of entries) {
    const last = requirementLine(e);
    if (editableTarget(last) !== null) {
      unhashable.push(`${e.name} (editable)`);
      continue;
    }
    const url = directUrl(last);
    const version = e.version || (url ? (/-([^-]+)-[^-]+-[^-]+-[^-]+\.whl$/.exec(url.split('#')[0])?.[1] ?? '') : '');
    const origin = version ? sources.origins.get(wheelKey(e.name, version)) : undefined;
    if (origin?.kind === 'archive' && origin.sha256) {
      out.push(hashed(last, [origin.sha256]));
      continue;
    }
    if (origin && origin.kind !== 'archive') {
      unhashable.push(`${e.name} (built from ${origin.kind === 'vcs' ? 'a VCS checkout' : 'a local source tree'})`);
      continue;
    }
    if (url && !url.split('#')[0].endsWith('.whl')) {
      unhashable.push(`${e.name} (${url.split('#')[0]})`);
      continue;
    }
    const fromIndex = version && !url ? await sources.index(e.name, version) : [];
    if (fromIndex.length) {
      out.push(hashed(last, [...new Set(fromIndex.map((f) => f.sha256))]));
      continue;
    }
    if (SEED.has(canonicalName(e.name)) && !url) {
      // The venv's own seed copy (ensurepip), not from an index: pip-compile leaves these out too.
      out.push(`# ${e.name}==${version} left out: the venv's own seed copy, not from an index`);
      continue;
    }
    // Every kept build (one per Python a version was installed for): pip takes any listed hash.
    const wheels = version ? sources.wheelhouse.findAll(e.name, version) : [];
    // None kept: one built now from the stored package, if there is one.
    const built = !wheels.length && version && sources.stored ? keptWheel(sources.wheelhouse, sources.stored, canonicalName(e.name), e.name, version, e.line) : null;
    if (built) wheels.push(built);
    if (!wheels.length) {
      missing.push(`${e.name}==${version || '?'}`);
      continue;
    }
    out.push(
      `# ${e.name}: no recorded origin and not on the index; this is the sha256 of the wheel pyctl kept (rebuilt from the installed files), which an index's file will not match\n${hashed(last, wheels.map(sha256File))}`,
    );
  }
  if (unhashable.length) {
    throw new PyctlError(
      'MISSING_WHEEL',
      `cannot pin hashes for ${unhashable.join(', ')}: pip does not allow editables or source directories with --require-hashes`,
      'export without --hashes, or install those from a wheel',
    );
  }
  if (missing.length) {
    throw new PyctlError(
      'MISSING_WHEEL',
      `no recorded origin, no index file and no kept wheel for ${missing.join(', ')}, so their hashes are unknown`,
      `reinstall them with pip so pyctl records where they came from; or export without --hashes`,
    );
  }
  return out;
}

/** Index files for a version, from the indexes pip is configured with (asked once each). */
export function indexLookup(venv: string): (name: string, version: string) => Promise<VersionFile[]> {
  let urls: string[] | undefined;
  return async (name, version) => {
    for (const index of (urls ??= pipIndexUrls(venv))) {
      const files = await indexFiles(index, name, version);
      if (files.length) return files;
    }
    return [];
  };
}

export async function exportState(ctx: Context, ref: string | undefined, opts: ExportOptions): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const format = opts.format ?? 'requirements';
  if (format !== 'requirements' && format !== 'pylock') throw usage(`unknown --format '${format}'`, 'use --format requirements (the default) or --format pylock');
  if (format === 'pylock' && opts.hashes) throw usage('--hashes is for requirements files; a pylock.toml always has the hashes', 'pyctl export --format pylock -o pylock.toml');
  const state = await resolveState(home, ref ?? 'now');
  const commit = await home.repo.readCommit(state.commit);
  const op = commit.parsed.meta?.op;
  const what = ref === undefined || ref === 'now' || ref === 'HEAD' ? `the current state` : state.label;
  const made = `${what}${op !== undefined ? ` (operation ${op}, ${shortDate(commit.time)})` : ''}`;
  if (format === 'pylock') {
    const { packages, leftOut } = await lockPackages(state.freeze, { origins: await originsAt(home, state.commit), index: indexLookup(paths.venv) });
    const python = venvMarkerEnv(paths.venv).python_version;
    const comments = [
      `pyctl export of ${made}, commit ${state.commit}`,
      `PEP 751 lock file; restore with: pyctl restore --file ${opts.output ?? 'pylock.toml'}`,
      ...(leftOut.length ? [`left out (the venv's own seed copies, from no index): ${leftOut.join(', ')}`] : []),
    ];
    const text = renderPylock({ 'lock-version': '1.0', 'created-by': 'pyctl', 'requires-python': `>=${python}`, packages }, comments);
    return written(text, opts.output, { state: state.label, commit: state.commit, op: op ?? null, packages: packages.length, format }, `${packages.length} package(s) of ${what}`, ctx.note, 'lock');
  }
  const sources = opts.hashes
    ? { origins: await originsAt(home, state.commit), index: indexLookup(paths.venv), wheelhouse: new Wheelhouse(paths.wheelhouse), stored: { files: paths.store, packages: paths.packages } }
    : null;
  const lines = await requirementLines(state.freeze, sources);
  const header = [
    `# pyctl export of ${made}`,
    `# commit ${state.commit}, exported ${shortDate(Date.now() / 1000)}`,
    opts.hashes ? `# install with: pip install --require-hashes -r ${opts.output ?? 'requirements.txt'}` : `# install with: pip install -r ${opts.output ?? 'requirements.txt'}`,
  ];
  const text = `${header.join('\n')}\n${lines.map((l) => `${l}\n`).join('')}`;
  const count = lines.filter((l) => !/^#[^\n]*$/.test(l)).length;
  const info = { state: state.label, commit: state.commit, op: op ?? null, packages: count, hashes: !!opts.hashes, format };
  return written(text, opts.output, info, `${count} requirement(s) for ${what}`, ctx.note, 'requirements');
}

/** The exported text on stdout, or written to -o FILE. */
function written(text: string, output: string | undefined, info: Record<string, unknown>, what: string, note: (line: string) => void, key: 'lock' | 'requirements'): Output {
  if (!output) return { text, json: { ...info, [key]: text } };
  const file = resolve(output);
  if (key === 'lock' && !isPylockName(file)) note(`PEP 751 names lock files pylock.toml or pylock.NAME.toml; pip and uv look for those names`);
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new PyctlError('PERMISSION', `cannot write ${file}: ${fsProblem(e)}`, 'choose another path with -o');
  }
  return { text: `wrote ${what} to ${output}\n`, json: { ...info, file } };
}
