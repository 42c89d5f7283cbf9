/** pyctl restore NAME|N, or --file FILE: bring back a snapshot, an operation's state, a pinned requirements file or a PEP 751 pylock.toml, as a new operation. */
import { basename, dirname, resolve } from 'node:path';
import { venvMarkerEnv } from '../deps/graph.js';
import { pythonAllowed } from '../net/simple-index.js';
import { applicablePackages, parsePylock } from '../packaging/pylock.js';
import { lockTargets, type LockTargets } from '../reconcile/from-lock.js';
import { PyctlError, usage } from '../errors.js';
import { readInputFile } from '../read-input.js';
import type { PinHashes } from '../reconcile/hashes.js';
import { canonicalName } from '../packaging/names.js';
import { originKey, parseOrigins } from '../provenance/origins.js';
import { readTextOr } from '../fs/read-text.js';
import { resolveState } from '../operations/history.js';
import { ALWAYS_KEEP } from '../deps/graph.js';
import { readInstalled } from '../venv/freeze.js';
import { normalizeVersion } from '../packaging/pep440.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
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
 * (`===` too, with `--hash=` options), `name @ url`, and `-e` lines as pip freeze writes them.
 * Every line is honoured or refused by its number: ranges, bare names, markers, other options
 * (-r, --index-url, options after a pin), an editable line that names no project, and a package
 * pinned twice to different versions are errors naming the line.
 */
export function pinnedFile(text: string, file: string): { freeze: string; hashes: Map<string, PinHashes> } {
  const out: string[] = [];
  const hashes = new Map<string, PinHashes>();
  const seen = new Map<string, { lineNo: number; pin: string }>();
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
      new PyctlError(
        'BAD_REQUIREMENTS',
        `${file}:${lineNo}: '${t.length > 80 ? t.slice(0, 77) + '...' : t}' ${why}`,
        "restore --file needs exact pins as 'pip freeze' writes them (name==version); 'pip install -r' takes ranges",
      );
    const noComment = t.replace(/\s+#.*$/, '');
    const given = [...noComment.matchAll(/\s--hash[=\s]\s*(\S+)/g)].map((m) => m[1]);
    for (const h of given) if (!/^(sha256|sha384|sha512):[0-9a-f]+$/i.test(h)) throw bad(`has a malformed --hash '${h}' (want sha256:HEX)`);
    const body = noComment.replace(/\s--hash[=\s]\s*\S+/g, '').trim();
    if (/^(-e|--editable)[\s=]/.test(body)) {
      const entry = [...parseFreeze([...comments, body].join('\n') + '\n').values()][0];
      if (!entry) throw bad("is an editable install that names no project: keep the '# Editable install ... (name==version)' comment pip freeze writes above it, or add #egg=NAME");
      if (given.length) throw bad('has --hash on an editable install, which has no file to check');
      out.push(...comments, body);
      comments = [];
      continue;
    }
    comments = [];
    if (body.startsWith('-')) throw bad('is an option, not a pinned package');
    if (body.includes(';')) throw bad('has an environment marker; only exact pins are accepted');
    const withOptions = /^(\S+?)\s+(-{1,2}\S.*)$/.exec(body);
    if (withOptions && !/@/.test(body)) throw bad(`has options after the pin ('${withOptions[2]}'); restore --file accepts only --hash there`);
    const pin = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(===?)\s*([^\s,;*<>=!~]+)$/.exec(body);
    const url = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*@\s*\S+$/.exec(body);
    if (!pin && !url) throw bad('is not an exact pin (name==version)');
    const name = (pin ?? url)![1];
    const key = canonicalName(name);
    const text2 = pin ? `${pin[1]}${pin[2]}${pin[3]}` : body;
    const before = seen.get(key);
    if (before) {
      const same = parseFreeze(before.pin + '\n').get(key);
      const now = parseFreeze(text2 + '\n').get(key);
      if (!same || !now || same.line !== now.line) throw bad(`pins ${name} again (line ${before.lineNo} has '${before.pin}'); keep one`);
      continue; // the same pin twice: honoured once
    }
    seen.set(key, { lineNo, pin: text2 });
    if (given.length) {
      if (!pin) throw bad('has --hash on a direct URL; put the hash in the URL (#sha256=...) instead');
      hashes.set(key, { values: given.map((h) => h.toLowerCase()), where: `${file}:${lineNo}` });
    }
    out.push(text2);
  }
  const freeze = out.map((l) => `${l}\n`).join('');
  if (parseFreeze(freeze).size === 0) throw new PyctlError('BAD_REQUIREMENTS', `${file} names no packages`, 'pip freeze > requirements.txt writes one');
  return { freeze, hashes };
}

/** Kept for callers that only need the freeze text. */
export function pinnedFreeze(text: string, file: string): string {
  return pinnedFile(text, file).freeze;
}

async function restoreFile(ctx: Context, file: string, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  const text = readInputFile(file);
  const name = basename(file);
  const lock = /\.toml$/i.test(name) ? lockedState(text, file, paths.venv, ctx.note) : null;
  // A pinned file's --hash values are checked before anything changes (a pylock's by reconcile).
  const pinnedText = lock ? null : pinnedFile(text, file);
  const hashes = pinnedText?.hashes ?? new Map<string, PinHashes>();
  const pinned = parseFreeze(lock ? lock.lines.map((l) => `${l}\n`).join('') : pinnedText!.freeze);
  return changeState(ctx, {
    kind: 'restore',
    dryRun: opts.dryRun,
    hashes,
    async resolve() {
      const installed = readInstalled(paths.venv);
      const byKey = new Map(installed.map((d) => [d.key, d]));
      const lines: string[] = [];
      const origins = parseOrigins(readTextOr(paths.provenance) ?? '');
      for (const [key, e] of pinned) {
        const have = byKey.get(key);
        // Same package and version spelled differently (Foo_Bar==1.0 vs foo-bar==1.0): keep it as installed.
        const same = have && e.version && !have.editable && !have.directUrl && (normalizeVersion(e.version) ?? e.version) === have.version;
        const h = hashes.get(key);
        if (same && h) {
          // Kept as installed: the file it was installed from must be one the --hash values allow.
          const o = origins.get(originKey(have));
          if (!o?.sha256)
            throw new PyctlError(
              'BAD_REQUIREMENTS',
              `${h.where}: ${have.name} ${have.version} is installed, but pyctl did not see the file it came from, so its --hash cannot be checked; nothing was changed`,
              `reinstall it with 'pip install --force-reinstall --no-deps --require-hashes -r ${file}', then restore again`,
            );
          if (!h.values.includes(`sha256:${o.sha256}`))
            throw new PyctlError(
              'BAD_REQUIREMENTS',
              `${h.where}: the installed ${have.name} ${have.version} came from a file with sha256:${o.sha256}, which none of its --hash values allow; nothing was changed`,
              'check the hashes in the file (pip hash FILE.whl), or reinstall that version from the file they name',
            );
        }
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
