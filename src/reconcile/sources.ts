/**
 * Where each package to install comes from, decided here and nowhere else: its stored package
 * (the files pip installed, linked back from the link store) when one was recorded for this
 * freeze line, this venv path and its Python, its WHEEL tags fit the interpreter and its files
 * are intact; else the wheelhouse (a wheel built from a stored package of another venv path
 * joins it first) or the recorded file for direct URLs; pip for editables/VCS/directories, and
 * the user's configured index (through `pip wheel`) only for what is missing. All of it is
 * found before anything in the venv changes.
 *
 * The one place that decides whether a wheel fits the venv's interpreter (PEP 425 tags and
 * Requires-Python, `fitProblem`): a kept wheel built for another Python (a cp311 build after a
 * move to 3.12) is never installed. The same version is taken from another kept build, else
 * fetched by the venv's own pip (which builds or picks the one for this Python); when none can
 * be had the whole operation is refused before anything changes, naming each package and why.
 *
 * And the place that checks what is installed: a file at hand that is a recorded original (the
 * recorded file name, not a pyctl rebuild) must have its recorded sha256 (provenance.txt, a
 * lock file, a URL's #sha256=); a mismatch is refused here, before the venv is touched. A lock
 * file's versions are fetched from its own URLs, every hash required.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyctlError } from '../errors.js';
import type { Step } from '../plan/reconcile.js';
import { pipError, requirePip, runPip } from '../pip/run.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';
import { builtFor, requiresPythonOk, tagRank, tagsOfWheelFile, tagsOfWheelMeta, tagTriple } from '../packaging/wheel-tags.js';
import { readWheelMeta } from '../wheel/wheel-file.js';
import { headerIn } from '../packaging/headers.js';
import { directUrl, editableTarget, requirementLine } from '../packaging/parse-freeze.js';
import { interpreterFacts, type Interpreter } from '../venv/tags.js';
import { defaultPycCache } from '../venv/create.js';
import { originalMismatch, type Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { isRebuiltWheel } from '../wheel/rebuild.js';
import type { LockedFile } from './from-lock.js';
import { fileMatches, hashRefused, type PinHashes } from './hashes.js';
import { checkStored, readStored, storedVersions, type StoreDirs, type StoredPackage } from '../wheel/package-store.js';
import { normalizeVersion } from '../packaging/pep440.js';

export type Source = { kind: 'stored'; entry: StoredPackage } | { kind: 'wheel'; path: string; directUrl?: object } | { kind: 'pip'; args: string[] };

/** The venv a stored package may be linked into: its files were installed for exactly it. */
export interface StoreTarget {
  dirs: StoreDirs;
  /** resolve()d venv path and its Python X.Y. */
  venv: string;
  python: string;
}

const lastLineOf = (line: string) => line.split('\n').pop()!.trim();

/**
 * A stored copy of exactly this freeze line (same direct URL, if any), whatever venv it was in.
 * A direct URL's line (`torch @ file:///…whl`, as pip freeze writes it) has no version: the
 * stored versions of the package recorded with that very line are looked at, and one is used
 * only when it is the only candidate (a wheel URL's file name also names the version).
 */
export function storedFor(dirs: StoreDirs, key: string, version: string, line: string): StoredPackage | null {
  const want = lastLineOf(line);
  const url = directUrl(want);
  if (!version) {
    if (!url) return null;
    const wheel = parseWheelName(decodeURIComponent(url.split('#')[0].split('?')[0]));
    const same = storedVersions(dirs, key).filter((e) => lastLineOf(e.line) === want && (!wheel || (normalizeVersion(e.version) ?? e.version) === wheel.version));
    return same.length === 1 ? same[0] : null;
  }
  const e = readStored(dirs, key, version);
  if (!e) return null;
  return !url || lastLineOf(e.line) === want ? e : null;
}

/** Whether a stored package's files (scripts' #! lines, RECORD's paths, .pyc) suit this venv as they are. */
export function storedFits(e: StoredPackage, t: StoreTarget): boolean {
  return e.venv === t.venv && e.python === t.python;
}

/**
 * A wheel file of this version (export --hashes): the wheelhouse's, else one built now from its
 * stored package (when intact). The caller checks the wheel's tags where it installs it.
 */
export function keptWheel(wheelhouse: Wheelhouse, dirs: StoreDirs, key: string, name: string, version: string, line: string): string | null {
  const have = wheelhouse.find(name, version);
  if (have || !version) return have;
  const e = storedFor(dirs, key, version, line);
  return e && checkStored(dirs, e).ok ? wheelhouse.fromStored(dirs, e) : null;
}

/** A package that cannot be had for this interpreter, and why (one clause). */
export interface Unavailable {
  step: Step;
  why: string;
}

function archiveDirectUrl(url: string): object {
  const [bare, frag = ''] = url.split('#');
  const hash = /(?:^|&)(sha256|sha384|sha512|md5)=([0-9a-f]+)/i.exec(frag);
  return hash ? { url: bare, archive_info: { hash: `${hash[1]}=${hash[2]}`, hashes: { [hash[1]]: hash[2] } } } : { url: bare, archive_info: {} };
}

const pyName = (it: Interpreter) => `${it.implementation === 'cpython' ? 'CPython' : it.implementation} ${it.version}`;

/**
 * Why a build with these tags (a wheel's file name, or an installed dist-info's WHEEL `Tag:`
 * lines) and this Requires-Python cannot go into the interpreter, or null when it fits.
 */
export function fitProblem(tags: string[], requiresPython: string | undefined, it: Interpreter): string | null {
  if (tags.length && tagRank(tags, it.ranks) < 0) return `built for ${builtFor(tags)} (${tagTriple(tags)}), not for this ${pyName(it)}`;
  if (!requiresPythonOk(requiresPython, it.version)) return `requires Python ${requiresPython?.trim()}, this is ${it.version}`;
  return null;
}

/** The fit of a wheel file: its name's tags, then (only if those fit) its METADATA's Requires-Python. */
function wheelProblem(path: string, it: Interpreter): string | null {
  const tags = tagsOfWheelFile(path);
  if (!tags) return 'not a wheel file name';
  const byTags = fitProblem(tags, undefined, it);
  if (byTags) return byTags;
  // An interpreter-specific build (cp312) says its Python in its name; only generic ones
  // (py3-none-any) need their METADATA read for Requires-Python (it costs reading the file).
  if (!tags.some((t) => t.startsWith('py'))) return null;
  const meta = readWheelMeta(path);
  if (!meta) return 'unreadable (damaged or not a wheel)';
  return fitProblem(tagsOfWheelMeta(meta.wheel), headerIn(meta.metadata, 'Requires-Python'), it);
}

/** The best-fitting build among `paths` (pip's tag order), or the reasons none fits. */
export function pickWheel(paths: string[], it: Interpreter): { path: string } | { why: string[] } {
  const why: string[] = [];
  const fitting: [number, string][] = [];
  for (const p of paths) {
    const problem = wheelProblem(p, it);
    if (problem) why.push(`kept wheel ${p.slice(p.lastIndexOf('/') + 1)}: ${problem}`);
    else fitting.push([tagRank(tagsOfWheelFile(p) ?? [], it.ranks), p]);
  }
  if (!fitting.length) return { why };
  fitting.sort((a, b) => a[0] - b[0]);
  return { path: fitting[0][1] };
}

/** An original file's recorded sha256: from provenance.txt, a pylock.toml, or a URL's #sha256=. */
export interface KnownFile {
  file: string;
  sha256: string;
}

/** Recorded originals by wheelKey(name, version). */
export type KnownFiles = ReadonlyMap<string, readonly KnownFile[]>;

export interface ResolveContext {
  venv: string;
  wheelhouse: Wheelhouse;
  /** A lock file's files for each version, by wheelKey: fetched from there, not the index. */
  locked?: ReadonlyMap<string, readonly LockedFile[]>;
  /** What each version's original files hash to, when known (asked only when a kept or downloaded original is at hand). */
  known?: () => Promise<KnownFiles>;
  /** Stored packages that may be linked back (omitted: wheels only). */
  store?: StoreTarget;
  note(line: string): void;
  verbose?: boolean;
  /** Where interpreter facts are cached (the .pyc cache folder); default ~/.cache/pyctl/pyc. */
  pycCache?: string;
  /** Fetched wheels are looked at, then thrown away with their temp folder (a dry run keeps nothing; its sources are not for installing). */
  keepNothing?: boolean;
  /** Never fetch: a wheel the wheelhouse lacks is a MISSING_WHEEL error (bisect's scratch venvs). */
  offline?: boolean;
  /** --hash values by key: a kept wheel is used only if it matches, else pip fetches the version and it must. */
  hashes?: Map<string, PinHashes>;
}

/** The interpreter a venv runs (its tags cached by interpreter). */
export function venvInterpreter(venv: string, pycCache?: string): Interpreter {
  return interpreterFacts(join(venv, 'bin', 'python'), pycCache ?? defaultPycCache());
}

/** Sources for every step, refusing (before anything changes) when any cannot be had. */
export async function resolveSources(steps: Step[], given: ResolveContext): Promise<Map<string, Source>> {
  // Each note once: a second look (below) finds the same refused stored copy again.
  const said = new Set<string>();
  const ctx: ResolveContext = { ...given, note: (line) => void (said.has(line) || (said.add(line), given.note(line))) };
  const found = await findSources(steps, ctx);
  // A kept wheel that is a recorded original but no longer has its bytes is never used: the
  // version is looked for again without it (another build, pip), and what pip fetches is
  // checked the same way below. A changed file outside the wheelhouse (a direct URL's own
  // file) is refused: there is nowhere else to take that very file from.
  const changed = (await changedOriginals(steps, found.sources, found.fromUrl, ctx.known, found.fetched)).filter((c) => !c.fetched && ctx.wheelhouse.holds(c.path));
  if (changed.length) {
    for (const c of changed) {
      ctx.note(`not using the kept ${basename(c.path)}: its sha256 ${c.got.slice(0, 16)}… is not the recorded ${c.want.slice(0, 16)}… ('pyctl doctor --fix' removes it)`);
      ctx.wheelhouse.distrust(c.path);
    }
    const keys = new Set(changed.map((c) => c.step.key));
    const again = await findSources(
      steps.filter((s) => keys.has(s.key)),
      ctx,
    );
    for (const [k, v] of again.sources) found.sources.set(k, v);
    for (const [k, v] of again.fromUrl) found.fromUrl.set(k, v);
    for (const p of again.fetched) found.fetched.add(p);
    found.unavailable = [...found.unavailable.filter((u) => !keys.has(u.step.key)), ...again.unavailable];
  }
  if (found.unavailable.length) throw unavailableError(found.unavailable, venvInterpreter(ctx.venv, ctx.pycCache));
  await checkOriginals(steps, found.sources, found.fromUrl, ctx.known, found.fetched);
  return found.sources;
}

interface ChangedOriginal {
  step: Step;
  path: string;
  fetched: boolean;
  got: string;
  want: string;
}

/**
 * Wheels about to be installed that are recorded originals (the recorded file's name, not a
 * pyctl rebuild) and do not hash to what was recorded. Hashing costs ~1 s per GB, paid only for
 * wheel files restored from (linked packages and rebuilt wheels skip it).
 */
async function changedOriginals(
  steps: Step[],
  sources: Map<string, Source>,
  fromUrl: Map<string, KnownFile>,
  lookup: (() => Promise<KnownFiles>) | undefined,
  fetched: Set<string>,
): Promise<ChangedOriginal[]> {
  const originals = steps.flatMap((s) => {
    const src = sources.get(s.key);
    return src?.kind === 'wheel' && !isRebuiltWheel(src.path) ? [{ s, path: src.path }] : [];
  });
  if (!originals.length) return [];
  const known = lookup ? await lookup() : new Map<string, KnownFile[]>();
  const out: ChangedOriginal[] = [];
  for (const { s, path } of originals) {
    const bad = originalMismatch(path, [...(known.get(wheelKey(s.name, s.version)) ?? []), ...(fromUrl.has(s.key) ? [fromUrl.get(s.key)!] : [])]);
    if (bad) out.push({ step: s, path, fetched: fetched.has(path), ...bad });
  }
  return out;
}

/** A recorded original that still does not hash to what was recorded is refused, before anything changes. */
async function checkOriginals(steps: Step[], sources: Map<string, Source>, fromUrl: Map<string, KnownFile>, lookup: (() => Promise<KnownFiles>) | undefined, fetched: Set<string>): Promise<void> {
  const bad: string[] = [];
  for (const c of await changedOriginals(steps, sources, fromUrl, lookup, fetched)) {
    // A download that is not the recorded file is not kept either.
    if (c.fetched) rmSync(c.path, { force: true });
    bad.push(`${basename(c.path)} (${c.fetched ? 'just downloaded' : c.path}) has sha256 ${c.got.slice(0, 16)}…, not the recorded ${c.want.slice(0, 16)}…`);
  }
  if (bad.length) {
    throw new PyctlError(
      'HASH_MISMATCH',
      `refusing to install ${bad.length === 1 ? 'a file' : `${bad.length} files`} whose hash is not the original's: ${bad.join('; ')}`,
      'nothing was changed; remove that file (pyctl fetches the version again from your index) or find out who changed it',
    );
  }
}

export function unavailableError(unavailable: Unavailable[], it: Interpreter): PyctlError {
  return new PyctlError(
    'MISSING_WHEEL',
    `cannot get ${unavailable.map((u) => `${pin(u.step)} for ${pyName(it)} (${u.why})`).join('; ')}`,
    'nothing was changed; check your network or index settings (pip config list), or put a wheel built for this Python in the wheelhouse',
  );
}

/** `name==version` (or the recorded line for direct URLs and editables). */
export function pin(s: Step): string {
  const last = requirementLine(s);
  return s.version && editableTarget(last) === null && directUrl(last) === null ? `${s.name}==${s.version}` : last;
}

/** Sources for what can be had, and what cannot with why; nothing in the venv changes. */
export async function findSources(steps: Step[], ctx: ResolveContext): Promise<{ sources: Map<string, Source>; unavailable: Unavailable[]; fromUrl: Map<string, KnownFile>; fetched: Set<string> }> {
  const out = new Map<string, Source>();
  const fromUrl = new Map<string, KnownFile>();
  const fetched = new Set<string>();
  const unavailable: Unavailable[] = [];
  const missing: Step[] = [];
  const reasons = new Map<string, string[]>();
  let it: Interpreter | undefined;
  const interp = () => (it ??= venvInterpreter(ctx.venv, ctx.pycCache));
  for (const s of steps) {
    const last = requirementLine(s);
    const editable = editableTarget(last);
    if (editable !== null) {
      out.set(s.key, { kind: 'pip', args: ['-e', editable] });
      continue;
    }
    // A lock file's versions come from the lock's files, every hash checked: never linked from the store.
    // Nor are --hash pins, unless the stored package came from a file whose sha256 is one of them.
    const pinned = ctx.hashes?.get(s.key);
    const found = ctx.store && !ctx.locked?.has(wheelKey(s.name, s.version)) ? storedFor(ctx.store.dirs, s.key, s.version, s.line) : null;
    const stored = found && (!pinned || (found.origin?.sha256 && pinned.values.includes(`sha256:${found.origin.sha256}`))) ? found : null;
    if (stored && ctx.store) {
      const check = checkStored(ctx.store.dirs, stored);
      // Never linked into another interpreter: its WHEEL tags must fit (a cp311 build, 3.12 venv).
      if (check.ok && storedFits(stored, ctx.store) && fitProblem(stored.tags, undefined, interp()) === null) {
        out.set(s.key, { kind: 'stored', entry: stored });
        continue;
      }
      if (!check.ok) ctx.note(`not using the stored copy of ${s.name} ${s.version}: ${check.bad}`);
      // Recorded in another venv path or Python: a wheel made from it joins the kept builds
      // below, where the tag check decides whether it fits.
      else if (!directUrl(last)) ctx.wheelhouse.fromStored(ctx.store.dirs, stored);
    }
    const url = directUrl(last); // fragment kept
    if (url) {
      const bare = url.split('#')[0];
      if (bare.startsWith('file:') && bare.endsWith('.whl')) {
        // The recorded file itself, or a kept copy of it: another build would not be that file.
        const file = fileURLToPath(bare);
        const w = parseWheelName(file);
        const kept = w ? ctx.wheelhouse.findAll(w.key, w.version).filter((p) => p.endsWith(`/${w.file}`)) : [];
        const candidates = existsSync(file) ? [file] : kept;
        if (candidates.length) {
          const pick = pickWheel(candidates, interp());
          const sha = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(url.split('#')[1] ?? '')?.[1];
          if (sha && w) fromUrl.set(s.key, { file: w.file, sha256: sha.toLowerCase() });
          if ('path' in pick) out.set(s.key, { kind: 'wheel', path: pick.path, directUrl: archiveDirectUrl(url) });
          else unavailable.push({ step: s, why: pick.why.join('; ').replace(/^kept wheel /, 'the recorded wheel ') });
          continue;
        }
      }
      out.set(s.key, { kind: 'pip', args: [last] });
      continue;
    }
    const h = ctx.hashes?.get(s.key);
    // A kept wheel rebuilt from installed files never has the index file's hash: fetch it then.
    const kept = ctx.wheelhouse.findAll(s.name, s.version).filter((p) => !h || fileMatches(p, h));
    const pick = kept.length ? pickWheel(kept, interp()) : { why: [] };
    if ('path' in pick) out.set(s.key, { kind: 'wheel', path: pick.path });
    else {
      if (pick.why.length) reasons.set(s.key, pick.why);
      missing.push(s);
    }
  }
  if (missing.length && ctx.offline) {
    // Never fetched (bisect's scratch venvs): what the wheelhouse lacks cannot be built.
    unavailable.push(...missing.map((s) => ({ step: s, why: `${reasons.get(s.key)?.join('; ') ?? 'not in the wheelhouse'} (not fetched: offline)` })));
  } else if (missing.length) unavailable.push(...(await fetchMissing(missing, ctx, out, interp(), reasons, fetched)));
  // restore --file's --hash values: whatever was found or fetched must be one of those files.
  for (const s of steps) {
    const h = ctx.hashes?.get(s.key);
    const src = out.get(s.key);
    if (h && src?.kind === 'wheel' && !fileMatches(src.path, h)) throw hashRefused(s.name, s.version, src.path, h);
  }
  return { sources: out, unavailable, fromUrl, fetched };
}

/**
 * Ask the venv's pip for wheels the wheelhouse lacks or has only for another Python: all at
 * once, then one by one to name each that cannot be had. A locked version comes from the lock's
 * own files (a find-links page of its URLs, every hash required, no index), anything else
 * through the user's own index settings.
 */
async function fetchMissing(missing: Step[], ctx: ResolveContext, out: Map<string, Source>, it: Interpreter, reasons: Map<string, string[]>, fetched: Set<string>): Promise<Unavailable[]> {
  const lockedOf = (s: Step) => ctx.locked?.get(wheelKey(s.name, s.version));
  const spec = (s: Step) => (s.line.includes('===') ? s.line : `${s.name}==${s.version}`);
  requirePip(ctx.venv, 'wheel, to fetch ' + missing.map(spec).join(' '));
  const stale = missing.filter((s) => reasons.has(s.key));
  ctx.note(
    `fetching ${missing.length} package(s) ${stale.length === missing.length ? `kept only in builds that do not fit this Python (${pyName(it)})` : 'not in the wheelhouse'}: ${missing.map(spec).join(' ')}`,
  );
  const tmp = mkdtempSync(`${ctx.wheelhouse.dir}.fetch-`);
  const got = new Map<string, string>();
  const failed: Unavailable[] = [];
  const take = (s: Step): boolean => {
    const files = readdirSync(tmp).filter((f) => f.endsWith('.whl'));
    const want = wheelKey(s.name, s.version);
    const mine = files.filter((f) => {
      const w = parseWheelName(f);
      return w && `${w.key}==${w.version}` === want;
    });
    const pick = pickWheel(
      mine.map((f) => join(tmp, f)),
      it,
    );
    if ('path' in pick) got.set(s.key, pick.path);
    return 'path' in pick;
  };
  let runs = 0;
  const lockedArgs = (batch: Step[]) => {
    const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const links = batch.flatMap((s) => lockedOf(s)!.map((f) => `<a href="${esc(f.url.split('#')[0])}#sha256=${f.sha256}">${esc(f.file)}</a>`));
    const page = join(tmp, `links-${++runs}.html`);
    const reqs = join(tmp, `locked-${runs}.txt`);
    writeFileSync(page, `<!DOCTYPE html><html><body>\n${links.join('\n')}\n</body></html>\n`);
    writeFileSync(
      reqs,
      batch
        .map(
          (s) =>
            `${spec(s)} ${lockedOf(s)!
              .map((f) => `--hash=sha256:${f.sha256}`)
              .join(' ')}\n`,
        )
        .join(''),
    );
    return ['--no-index', '--find-links', page, '--require-hashes', '-r', reqs];
  };
  const fetch = async (batch: Step[]) => {
    const locked = batch.filter((s) => lockedOf(s)?.length);
    const plain = batch.filter((s) => !lockedOf(s)?.length);
    let result: Awaited<ReturnType<typeof runPip>> | undefined;
    for (const what of [plain.length ? plain.map(spec) : null, locked.length ? lockedArgs(locked) : null]) {
      if (!what) continue;
      const args = ['wheel', '--no-deps', '--wheel-dir', tmp, ...what];
      if (ctx.verbose) ctx.note(`pip ${args.join(' ')}`);
      const r = await runPip(ctx.venv, args, { verbose: ctx.verbose });
      if (!result || r.exitCode !== 0) result = r;
    }
    return result!;
  };
  try {
    const r = await fetch(missing);
    let left = missing.filter((s) => !take(s));
    if (left.length && r.exitCode !== 0 && missing.length > 1) {
      for (const s of left) {
        const one = await fetch([s]);
        if (!take(s)) failed.push({ step: s, why: whyNot(s, reasons, one.exitCode !== 0 ? pipError(one) : 'pip gave no wheel that fits') });
      }
      left = [];
    }
    for (const s of left) failed.push({ step: s, why: whyNot(s, reasons, r.exitCode !== 0 ? pipError(r) : 'pip gave no wheel that fits') });
    for (const s of missing) {
      const path = got.get(s.key);
      if (!path) continue;
      const kept = ctx.keepNothing ? path : ctx.wheelhouse.add(path, 'move');
      fetched.add(kept);
      out.set(s.key, { kind: 'wheel', path: kept });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return failed;
}

function whyNot(s: Step, reasons: Map<string, string[]>, pip: string): string {
  const kept = reasons.get(s.key);
  return `${kept ? `${kept.join('; ')}, and ` : 'not in the wheelhouse, and '}pip could not get one: ${pip}`;
}
