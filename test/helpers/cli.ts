/** Run the built pyctl and a venv's pip as real processes, hermetically. */
import { chmodSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hermeticEnv } from './env.js';
import { run, runOk, type Run } from './run.js';

export const CLI = resolve(__dirname, '../../dist/pyctl.js');

export type { Run };

export function pyctl(home: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return run(process.execPath, [CLI, ...args], hermeticEnv({ PYCTL_HOME: home, NO_COLOR: '1', ...env }));
}

/** Run pip in a venv the way a user would, offline against a folder of test wheels. */
export function pip(venv: string, args: string[], opts: { wheels?: string; how?: string[]; env?: Record<string, string | undefined> } = {}): Promise<Run> {
  const how = opts.how ?? [join(venv, 'bin', 'pip')];
  const env = hermeticEnv({ PIP_NO_INDEX: '1', ...(opts.wheels ? { PIP_FIND_LINKS: opts.wheels } : {}), ...opts.env });
  return run(how[0], [...how.slice(1), ...args], env);
}

/** The real git CLI on a state repo. */
export async function git(home: string, args: string[]): Promise<string> {
  return (await runOk('git', ['-C', home, ...args], hermeticEnv({ GIT_CONFIG_NOSYSTEM: '1', HOME: home }))).stdout;
}

/**
 * A copy of the built CLI (dist/ and hooks/) that another user can read: the checkout may sit in
 * a private folder (mode 0700, as a mkdtemp or an Ubuntu home is) that `nobody` cannot enter.
 * Returns the copy's pyctl.js; the caller removes `dir` when done.
 */
export function readableCli(): { cli: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pyctl-readable-'));
  chmodSync(dir, 0o755);
  const repo = resolve(__dirname, '../..');
  for (const d of ['dist', 'hooks']) cpSync(join(repo, d), join(dir, d), { recursive: true });
  return { cli: join(dir, 'dist', 'pyctl.js'), dir };
}

// pip freeze's listing (pip/_internal/operations/freeze.py): one `Name==version` per distribution
// found on the interpreter's path, first of a name wins, sorted by the name lower-cased. The
// distributions are found as importlib.metadata finds them (its FastPath lookup: on each sys.path
// entry in order, the `*.dist-info` entries, then the `*.egg-info` ones, names matched without
// case; metadata from METADATA, else PKG-INFO, else an egg-info file itself; the first Name and
// Version headers), without importing it: importlib.metadata pulls in email, zipfile, shutil and
// more (~0.12 s of CPU a run against ~0.04 s for this).
const FREEZE_PY = String.raw`
import os, re, sys
seen = {}
def headers(path):
    for f in ('METADATA', 'PKG-INFO', ''):
        try:
            with open(os.path.join(path, f) if f else path, encoding='utf-8') as fh:
                text = fh.read()
        except OSError:
            continue
        if text:
            out = {}
            for line in text.split('\n\n', 1)[0].splitlines():
                key, sep, value = line.partition(':')
                if sep and not line[:1].isspace():
                    out.setdefault(key.strip().lower(), value.strip())
            return out
    return {}
for entry in sys.path:
    try:
        names = os.listdir(entry or '.')
    except OSError:
        continue
    infos = [n for n in names if n.lower().endswith('.dist-info')]
    eggs = [n for n in names if n.lower().endswith('.egg-info')]
    for n in infos + eggs:
        meta = headers(os.path.join(entry, n))
        name = meta.get('name')
        if name:
            seen.setdefault(re.sub(r'[-_.]+', '-', name).lower(), (name, '%s==%s' % (name, meta.get('version'))))
print('\n'.join(line for _, line in sorted(seen.values(), key=lambda x: x[0].lower())))
`;

/**
 * What `pip freeze --all` prints for a venv of plain wheel installs (no editables or URL installs),
 * read by the venv's own Python (its own sys.path, .pth files and all) from the same dist-info
 * folders pip reads, without starting pip (~0.04 s of CPU instead of ~0.7 s). For checks of the
 * installed set in tests not about pip freeze; unlike pip, it never runs the pyctl hook.
 * test/undo.test.ts checks it against pip, and against importlib.metadata's own listing.
 */
export async function installedSet(venv: string): Promise<string> {
  return (await runOk(join(venv, 'bin', 'python'), ['-c', FREEZE_PY], hermeticEnv())).stdout;
}

/** The same listing from importlib.metadata itself, to check installedSet's reading against. */
export async function installedSetByImportlib(venv: string): Promise<string> {
  const py = String.raw`
import importlib.metadata as m, re
seen = {}
for d in m.distributions():
    name = d.metadata['Name']
    if name:
        seen.setdefault(re.sub(r'[-_.]+', '-', name).lower(), (name, '%s==%s' % (name, d.version)))
print('\n'.join(line for _, line in sorted(seen.values(), key=lambda x: x[0].lower())))
`;
  return (await runOk(join(venv, 'bin', 'python'), ['-c', py], hermeticEnv())).stdout;
}
