/** pyctl restore NAME|N, or --file FILE: bring back a snapshot, an operation's state, a pinned requirements file or a PEP 751 pylock.toml, as a new operation. */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { venvMarkerEnv } from '../deps/graph.js';
import { pythonAllowed } from '../net/simple-index.js';
import { applicablePackages, parsePylock } from '../packaging/pylock.js';
import { lockTargets, type LockTargets } from '../reconcile/from-lock.js';
import { PyctlError, fsProblem, usage } from '../errors.js';
import { resolveState } from '../operations/history.js';
import { ALWAYS_KEEP } from '../deps/graph.js';
import { readInstalled } from '../venv/freeze.js';
import { normalizeVersion } from '../packaging/pep440.js';
import { editableTarget, parseFreeze } from '../packaging/parse-freeze.js';
import { changeState } from '../operations/change.js';
import type { Context, Output } from '../operations/context.js';

export async function restore(ctx: Context, ref: string | undefined, opts: { dryRun?: boolean; file?: string }): Promise<Output> {
  const { home } = ctx;
  if (opts.file !== undefined) {
    if (ref !== undefined) throw usage(`restore takes a snapshot/operation or --file, not both`, `pyctl restore --file ${opts.file}`);
    return restoreFile(ctx, opts.file, opts);
  }
  if (ref === undefined) throw usage('restore needs a snapshot name, an operation number or --file FILE', 'pyctl restore dev-tools, pyctl restore 12, pyctl restore --file requirements.txt');
  home.requireInitialized();
  return changeState(ctx, {
    kind: 'restore',
    dryRun: opts.dryRun,
    async resolve() {
      const state = await resolveState(home, ref);
      return { freeze: state.freeze, subject: `pyctl restore ${ref}`, target: ref, commit: state.commit };
    },
  });
}

/**
 * A requirements/freeze file -> freeze text, accepting only exact pins: `name==version`
 * (`===` too, trailing `--hash=` options allowed), `name @ url`, and `-e` lines as pip freeze
 * writes them. Anything else (ranges, bare names, markers, -r/--index-url…) is an error naming the line.
 */
export function pinnedFreeze(text: string, file: string): string {
  const out: string[] = [];
  const physical = text.split(/\r?\n/);
  let comments: string[] = [];
  for (let i = 0; i < physical.length; i++) {
    const lineNo = i + 1;
    let line = physical[i];
    while (/\\\s*$/.test(line) && i + 1 < physical.length) line = line.replace(/\\\s*$/, ' ') + physical[++i];
    const t = line.trim();
    if (!t) {
      comments = [];
      continue;
    }
    if (t.startsWith('#')) {
      comments.push(t);
      continue;
    }
    const bad = (why: string) =>
      new PyctlError('BAD_REQUIREMENTS', `${file}:${lineNo}: '${t.length > 80 ? t.slice(0, 77) + '...' : t}' ${why}`, "restore --file needs exact pins as 'pip freeze' writes them (name==version); 'pip install -r' takes ranges");
    const body = t.replace(/\s+#.*$/, '').replace(/(\s+--hash[=\s]\S+)+$/, '').trim();
    if (editableTarget(body) !== null) {
      out.push(...comments, body);
      comments = [];
      continue;
    }
    comments = [];
    if (body.startsWith('-')) throw bad('is an option, not a pinned package');
    if (body.includes(';')) throw bad('has an environment marker; only exact pins are accepted');
    const pin = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(===?)\s*([^\s,;*<>=!~]+)$/.exec(body);
    const url = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*@\s*\S+$/.exec(body);
    if (pin) out.push(`${pin[1]}${pin[2]}${pin[3]}`);
    else if (url) out.push(body);
    else throw bad('is not an exact pin (name==version)');
  }
  const freeze = out.map((l) => `${l}\n`).join('');
  if (parseFreeze(freeze).size === 0) throw new PyctlError('BAD_REQUIREMENTS', `${file} names no packages`, 'pip freeze > requirements.txt writes one');
  return freeze;
}

async function restoreFile(ctx: Context, file: string, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PyctlError('USAGE', `cannot read ${file}: ${fsProblem(e)}`, 'give the path of a requirements or freeze file');
  }
  const name = basename(file);
  const lock = /\.toml$/i.test(name) ? lockedState(text, file, paths.venv, ctx.note) : null;
  const pinned = parseFreeze(lock ? lock.lines.map((l) => `${l}\n`).join('') : pinnedFreeze(text, file));
  return changeState(ctx, {
    kind: 'restore',
    dryRun: opts.dryRun,
    async resolve() {
      const installed = readInstalled(paths.venv);
      const byKey = new Map(installed.map((d) => [d.key, d]));
      const lines: string[] = [];
      for (const [key, e] of pinned) {
        const have = byKey.get(key);
        // Same package and version spelled differently (Foo_Bar==1.0 vs foo-bar==1.0): keep it as installed.
        const same = have && e.version && !have.editable && !have.directUrl && (normalizeVersion(e.version) ?? e.version) === have.version;
        lines.push(same ? have.line : e.line);
      }
      // pip freeze leaves out pip, setuptools and wheel: a file without them keeps the installed ones.
      for (const k of ALWAYS_KEEP) if (!pinned.has(k) && byKey.has(k)) lines.push(byKey.get(k)!.line);
      return { freeze: lines.map((l) => `${l}\n`).join(''), subject: `pyctl restore --file ${name}`, target: name, locked: lock?.files, origins: lock?.origins };
    },
  });
}

/** A PEP 751 lock file -> what applies to this venv (skipped packages noted). */
function lockedState(text: string, file: string, venv: string, note: (line: string) => void): LockTargets {
  const lock = parsePylock(text, file);
  if (!/^1(\.0)?$/.test(lock['lock-version'])) note(`${file}: lock-version ${lock['lock-version']} is newer than 1.0; reading it as 1.0`);
  const env = venvMarkerEnv(venv);
  const { packages, skipped } = applicablePackages(lock, env, (spec) => pythonAllowed(spec, env.python_full_version), file);
  if (skipped.length) note(`${file}: ${skipped.length} package(s) not for this environment, skipped: ${skipped.join(', ')}`);
  if (!packages.length) throw new PyctlError('BAD_LOCK', `${file} has no packages for this environment`, 'lock it for this Python and platform');
  return lockTargets(packages, dirname(resolve(file)), basename(file));
}
