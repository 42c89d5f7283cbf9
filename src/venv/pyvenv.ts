/** pyvenv.cfg: which base Python a venv was made from (read without running Python). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PyvenvCfg {
  home?: string;
  version?: string;
  executable?: string;
}

export function readPyvenvCfg(venv: string): PyvenvCfg {
  const out: Record<string, string> = {};
  let text = '';
  try {
    text = readFileSync(join(venv, 'pyvenv.cfg'), 'utf8');
  } catch {
    return {};
  }
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return { home: out.home, version: out.version ?? out.version_info, executable: out.executable };
}

/** The base interpreter, as commits record it. */
export function interpreterOf(cfg: PyvenvCfg): string | undefined {
  return cfg.executable ?? (cfg.home && cfg.version ? join(cfg.home, `python${cfg.version.split('.').slice(0, 2).join('.')}`) : cfg.home);
}
