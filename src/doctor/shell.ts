/**
 * The shell start-up block check (is a `# >>> pyctl >>>` block in a start-up file?) and its fix,
 * which runs install.sh's own implementation (hooks/shell-blocks.sh) so there is only one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyctlError } from '../errors.js';

export const MARK_BEGIN = '# >>> pyctl >>>';

/** A path under the user's home as `~/...`, as the start-up files are named to people. */
export function tilde(p: string): string {
  const h = process.env.HOME || homedir();
  return p.startsWith(h + '/') ? '~' + p.slice(h.length) : p;
}

/** The start-up files install.sh may write, as it names them. */
export function startupFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const conf = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return [join(home, '.bashrc'), join(env.ZDOTDIR || home, '.zshrc'), join(conf, 'fish', 'conf.d', 'pyctl.fish')];
}

/** Start-up files holding a pyctl block. */
export function filesWithBlock(env: NodeJS.ProcessEnv = process.env): string[] {
  return startupFiles(env).filter((f) => {
    try {
      return readFileSync(f, 'utf8').split('\n').includes(MARK_BEGIN);
    } catch {
      return false;
    }
  });
}

/** sh/ sits beside dist/ (installed app, bundle) or src/ (tests), like hooks/. */
function scriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'hooks', 'shell-blocks.sh');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new PyctlError('INTERNAL', "pyctl's hooks/shell-blocks.sh is missing next to its program", 'reinstall pyctl with ./install.sh');
}

/** Add or refresh the PATH block; returns install.sh's one line per file ("~/.bashrc (added)"). */
export function addShellBlock(pyctlHome: string, defaultHome: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return runBlocks('add', pyctlHome, defaultHome, env);
}

/** Remove every PATH block; one line per file changed ("~/.bashrc (removed)"). */
export function removeShellBlocks(pyctlHome: string, defaultHome: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return runBlocks('remove', pyctlHome, defaultHome, env);
}

function runBlocks(verb: 'add' | 'remove', pyctlHome: string, defaultHome: string, env: NodeJS.ProcessEnv): string[] {
  const childEnv = { ...env };
  // The block exports PYCTL_HOME only for a home that is not the default one.
  if (pyctlHome !== defaultHome) childEnv.PYCTL_HOME = pyctlHome;
  else delete childEnv.PYCTL_HOME;
  try {
    const out = execFileSync('bash', [scriptPath(), verb], { env: childEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n').filter(Boolean);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new PyctlError('INTERNAL', `could not ${verb} the PATH block: ${(err.stderr || err.message).trim().split('\n').pop()}`, 'add it by hand: see docs/install.md');
  }
}
