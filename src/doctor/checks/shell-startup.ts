/** The `# >>> pyctl >>>` PATH block in a shell start-up file; the fix adds it as install.sh does. */
import { defaultHome } from '../../paths.js';
import { addShellBlock, filesWithBlock, startupFiles, tilde } from '../shell.js';
import type { Check } from '../check.js';

export const shellStartup: Check = {
  name: 'shell-startup',
  reads: ['shell'],
  async run() {
    const blocks = filesWithBlock();
    if (blocks.length) return { status: 'ok', message: `PATH block in ${blocks.map(tilde).join(', ')}`, fix: null };
    return {
      status: 'warning',
      message: `no '# >>> pyctl >>>' PATH block in ${startupFiles().map(tilde).join(', ')}`,
      fix: 'add the PATH block to the shell start-up files (as install.sh does)',
      fixable: true,
    };
  },
  fix: {
    writes: ['shell'],
    apply: async (scan) =>
      `PATH block: ${addShellBlock(scan.paths.home, defaultHome({ ...process.env, PYCTL_HOME: undefined }))
        .map(tilde)
        .join(', ')}`,
  },
};
