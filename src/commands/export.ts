/**
 * pyctl export [NAME|N] [--hashes] [-o FILE]: a requirements file for a recorded state that
 * `pip install -r` accepts: the freeze lines as recorded (direct URLs and editables included),
 * under a header naming the state. --hashes pins each wheel's sha256 from the wheelhouse, for
 * `pip install --require-hashes -r`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PyctlError, fsProblem } from '../errors.js';
import { resolveState } from '../operations/history.js';
import { shortDate } from '../render/time.js';
import { parseFreeze } from '../venv/freeze.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';

export interface ExportOptions {
  hashes?: boolean;
  output?: string;
}

/** `name @ url` -> url, or null. */
const directUrl = (line: string) => /^\S+?(?:\[[^\]]*\])?\s*@\s*(\S+)\s*$/.exec(line)?.[1] ?? null;

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The requirement lines of a freeze text, with hashes from the wheelhouse when asked. */
export function requirementLines(freeze: string, wheelhouse: Wheelhouse | null): string[] {
  const entries = [...parseFreeze(freeze).values()];
  if (!wheelhouse) return entries.map((e) => e.line);
  const missing: string[] = [];
  const unhashable: string[] = [];
  const out: string[] = [];
  for (const e of entries) {
    const last = e.line.split('\n').pop()!.trim();
    if (/^(-e|--editable)\b/.test(last)) {
      unhashable.push(`${e.name} (editable)`);
      continue;
    }
    const url = directUrl(last);
    if (url && !url.split('#')[0]!.endsWith('.whl')) {
      unhashable.push(`${e.name} (${url.split('#')[0]})`);
      continue;
    }
    const version = e.version || (url ? (/-([^-]+)-[^-]+-[^-]+-[^-]+\.whl$/.exec(url.split('#')[0]!)?.[1] ?? '') : '');
    const wheel = version ? wheelhouse.find(e.name, version) : null;
    if (!wheel) {
      missing.push(`${e.name}==${version || '?'}`);
      continue;
    }
    out.push(`${last} \\\n    --hash=sha256:${sha256File(wheel)}`);
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
      `no wheel in the wheelhouse for ${missing.join(', ')}, so their hashes are unknown`,
      `restore that state once (pyctl restore …) or reinstall them with pip so pyctl keeps their wheels; or export without --hashes`,
    );
  }
  return out;
}

export async function exportState(ctx: Context, ref: string | undefined, opts: ExportOptions): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const state = await resolveState(home, ref ?? 'now');
  const commit = await home.repo.readCommit(state.commit);
  const op = commit.parsed.meta?.op;
  const what = ref === undefined || ref === 'now' || ref === 'HEAD' ? `the current state` : state.label;
  const lines = requirementLines(state.freeze, opts.hashes ? new Wheelhouse(paths.wheelhouse) : null);
  const header = [
    `# pyctl export of ${what}${op !== undefined ? ` (operation ${op}, ${shortDate(commit.time)})` : ''}`,
    `# commit ${state.commit}, exported ${shortDate(Date.now() / 1000)}`,
    opts.hashes
      ? `# install with: pip install --require-hashes -r ${opts.output ?? 'requirements.txt'}`
      : `# install with: pip install -r ${opts.output ?? 'requirements.txt'}`,
  ];
  const text = `${header.join('\n')}\n${lines.map((l) => `${l}\n`).join('')}`;
  const info = { state: state.label, commit: state.commit, op: op ?? null, packages: lines.length, hashes: !!opts.hashes };
  if (opts.output) {
    const file = resolve(opts.output);
    try {
      writeFileSync(file, text);
    } catch (e) {
      throw new PyctlError('PERMISSION', `cannot write ${file}: ${fsProblem(e)}`, 'choose another path with -o');
    }
    return { text: `wrote ${lines.length} requirement(s) for ${what} to ${opts.output}\n`, json: { ...info, file } };
  }
  return { text, json: { ...info, requirements: text } };
}
