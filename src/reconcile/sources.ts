/**
 * Where each package to install comes from: the wheelhouse first, the recorded file for direct
 * URLs, pip for editables/VCS/directories, and the user's configured index (through `pip wheel`)
 * only for what is missing. All of it is found before anything in the venv changes.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyctlError } from '../errors.js';
import type { Step } from '../plan/reconcile.js';
import { pipError, requirePip, runPip } from '../pip/run.js';
import { parseWheelName } from '../packaging/wheel-name.js';
import type { Wheelhouse } from '../wheelhouse/wheelhouse.js';

export type Source =
  | { kind: 'wheel'; path: string; directUrl?: object }
  | { kind: 'pip'; args: string[] };

/** `name @ url` -> url (fragment kept), or null. */
function directUrlOf(line: string): string | null {
  const m = /^\S+?(?:\[[^\]]*\])?\s*@\s*(\S+)\s*$/.exec(line);
  return m ? m[1] : null;
}

function archiveDirectUrl(url: string): object {
  const [bare, frag = ''] = url.split('#');
  const hash = /(?:^|&)(sha256|sha384|sha512|md5)=([0-9a-f]+)/i.exec(frag);
  return hash ? { url: bare, archive_info: { hash: `${hash[1]}=${hash[2]}`, hashes: { [hash[1]]: hash[2] } } } : { url: bare, archive_info: {} };
}

export interface ResolveContext {
  venv: string;
  wheelhouse: Wheelhouse;
  note(line: string): void;
  verbose?: boolean;
}

export async function resolveSources(steps: Step[], ctx: ResolveContext): Promise<Map<string, Source>> {
  const out = new Map<string, Source>();
  const missing: Step[] = [];
  for (const s of steps) {
    const last = s.line.split('\n').pop()!.trim();
    const editable = /^(?:-e|--editable)[\s=]+(.*)$/.exec(last);
    if (editable) {
      out.set(s.key, { kind: 'pip', args: ['-e', editable[1]] });
      continue;
    }
    const url = directUrlOf(last);
    if (url) {
      const bare = url.split('#')[0];
      if (bare.startsWith('file:') && bare.endsWith('.whl')) {
        const file = fileURLToPath(bare);
        const w = parseWheelName(file);
        const kept = w && ctx.wheelhouse.find(w.key, w.version);
        const path = existsSync(file) ? file : kept;
        if (path) {
          out.set(s.key, { kind: 'wheel', path, directUrl: archiveDirectUrl(url) });
          continue;
        }
      }
      out.set(s.key, { kind: 'pip', args: [last] });
      continue;
    }
    const path = ctx.wheelhouse.find(s.name, s.version);
    if (path) out.set(s.key, { kind: 'wheel', path });
    else missing.push(s);
  }
  if (missing.length) await fetchMissing(missing, ctx, out);
  return out;
}

/** Ask pip (with the user's own index settings) for wheels the wheelhouse lacks. */
async function fetchMissing(missing: Step[], ctx: ResolveContext, out: Map<string, Source>): Promise<void> {
  const specs = missing.map((s) => (s.line.includes('===') ? s.line : `${s.name}==${s.version}`));
  requirePip(ctx.venv, 'wheel, to fetch ' + specs.join(' '));
  ctx.note(`fetching ${specs.length} package(s) not in the wheelhouse: ${specs.join(' ')}`);
  const tmp = mkdtempSync(`${ctx.wheelhouse.dir}.fetch-`);
  try {
    const args = ['wheel', '--no-deps', '--wheel-dir', tmp, ...specs];
    if (ctx.verbose) ctx.note(`pip ${args.join(' ')}`);
    const r = await runPip(ctx.venv, args, { verbose: ctx.verbose });
    for (const f of readdirSync(tmp)) if (f.endsWith('.whl')) ctx.wheelhouse.add(join(tmp, f), true);
    const still = missing.filter((s) => !ctx.wheelhouse.find(s.name, s.version));
    if (r.exitCode !== 0 || still.length) {
      const names = (still.length ? still : missing).map((s) => `${s.name}==${s.version}`).join(', ');
      throw new PyctlError(
        'RECONCILE_FAILED',
        `cannot get ${names}: not in the wheelhouse and pip could not fetch it (${pipError(r)})`,
        'check your network or index settings (pip config list); nothing was changed',
      );
    }
    for (const s of missing) out.set(s.key, { kind: 'wheel', path: ctx.wheelhouse.find(s.name, s.version)! });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
