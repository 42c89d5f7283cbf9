/** Turn a user's Python choice (nothing, a path, a version like 3.12, a command name) into an interpreter path. */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';

const HINT = 'Install that Python (e.g. `pyenv install 3.12`, or your system package), or pass a path with --python.';

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function pyenvRoot(env: NodeJS.ProcessEnv): string {
  return env.PYENV_ROOT || join(env.HOME || homedir(), '.pyenv');
}

/** First `name` on PATH; pyenv shims are skipped when asked (they fail for versions not selected). */
function onPath(name: string, env: NodeJS.ProcessEnv, skipShims: boolean): string | undefined {
  const shims = join(pyenvRoot(env), 'shims');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || (skipShims && resolve(dir) === shims)) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** Highest pyenv-installed version matching `3.12` (3.12.1, 3.12.10 ...). */
function fromPyenv(version: string, env: NodeJS.ProcessEnv): string | undefined {
  const root = join(pyenvRoot(env), 'versions');
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return undefined;
  }
  const [major, minor] = version.split('.');
  const exe = minor === undefined ? `python${major}` : `python${major}.${minor}`;
  const nums = (s: string) => s.split(/[^\d]+/).filter(Boolean).map(Number);
  const matches = dirs
    .filter((d) => d === version || d.startsWith(version + '.'))
    .sort((a, b) => {
      const x = nums(a), y = nums(b);
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (y[i] ?? -1) - (x[i] ?? -1);
      return 0;
    });
  for (const d of matches) {
    const p = join(root, d, 'bin', exe);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export function findPython(spec?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (spec === undefined || spec === '') {
    const p = onPath('python3', env, false);
    if (p) return p;
    throw new PyctlError('NO_PYTHON', 'no python3 found on PATH', HINT);
  }
  if (spec.includes('/')) {
    const p = resolve(spec);
    if (isExecutable(p)) return p;
    throw new PyctlError('NO_PYTHON', `${spec} is not an executable Python`, HINT);
  }
  if (/^\d+(\.\d+){0,2}$/.test(spec)) {
    const [major, minor] = spec.split('.');
    const name = minor === undefined ? `python${major}` : `python${major}.${minor}`;
    const p = onPath(name, env, true) ?? fromPyenv(spec, env);
    if (p) return p;
    throw new PyctlError('NO_PYTHON', `Python ${spec} not found (looked for ${name} on PATH and in ${join(pyenvRoot(env), 'versions')})`, HINT);
  }
  const p = onPath(spec, env, false);
  if (p) return p;
  throw new PyctlError('NO_PYTHON', `${spec} not found on PATH`, HINT);
}
