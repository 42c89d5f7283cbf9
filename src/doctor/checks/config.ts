/** config.toml parses and has known keys (no automatic fix: pyctl never rewrites it). */
import type { Check } from '../check.js';

export const config: Check = {
  name: 'config',
  reads: ['config'],
  async run(scan) {
    try {
      const warnings = scan.home.configWarnings;
      return { status: warnings.length ? 'warning' : 'ok', message: warnings.length ? warnings.join('; ') : `${scan.paths.config} parses`, fix: null };
    } catch (e) {
      return { status: 'problem', message: `${(e as Error).message} (no automatic fix: edit the file; pyctl never rewrites it)`, fix: null };
    }
  },
};
