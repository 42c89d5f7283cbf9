/**
 * pyctl setup-shell [--remove]: the PATH lines install.sh writes (the venv's bin, then
 * ~/.local/bin, first on PATH), for installs that did not run install.sh (`npm install -g`).
 * The same marked blocks and the same code as install.sh and doctor --fix (hooks/shell-blocks.sh).
 */
import { homedir } from 'node:os';
import { addShellBlock, removeShellBlocks } from '../doctor/shell.js';
import { defaultHome } from '../paths.js';
import type { Context, Output } from '../operations/context.js';

const tilde = (p: string) => {
  const h = process.env.HOME || homedir();
  return p.startsWith(`${h}/`) ? `~/${p.slice(h.length + 1)}` : p;
};

export async function setupShell(ctx: Context, opts: { remove?: boolean }): Promise<Output> {
  const { paths } = ctx.home;
  const dflt = defaultHome({ ...process.env, PYCTL_HOME: undefined });
  if (opts.remove) {
    const files = removeShellBlocks(paths.home, dflt);
    const text = files.length ? `removed the PATH block from ${files.map((f) => tilde(f.replace(/ \(removed\)$/, ''))).join(', ')}\n` : 'no PATH block to remove\n';
    return { text: `${text}Open a new shell for it to take effect.\n`, json: { removed: files.map((f) => f.replace(/ \(removed\)$/, '')) } };
  }
  const files = addShellBlock(paths.home, dflt);
  const lines = [`PATH block (${paths.venv}/bin first):`, ...files.map((f) => `  ${tilde(f)}`)];
  if (!ctx.home.initialized()) lines.push(`The venv does not exist yet: run 'pyctl init'.`);
  lines.push('Open a new shell (or source the file), then `pip install <pkg>`; `pyctl status` checks the setup.');
  return { text: lines.join('\n') + '\n', json: { files } };
}
