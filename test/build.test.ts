/**
 * `npm run build` (src/build.mjs) builds beside dist/ and swaps the result in at the end, so tests
 * or a pyctl running from the checkout never find dist/ missing, and a failed build keeps the last
 * good one. Run on a copy of src/ in a temp folder: the checkout's own dist/ is never touched.
 */
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { run } from './helpers/run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let root: string;

beforeAll(() => {
  root = tempDir();
  cpSync(join(ROOT, 'src'), join(root, 'src'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
});
afterAll(() => removeDir(root));

it('a build that fails leaves the last good dist/ as it was, and sweeps what a killed build left beside it', async () => {
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', 'pyctl.js'), '// the last good build\n');
  // A build killed before its swap: its process is gone (pid 2^22 + 1 is above Linux's pid_max).
  mkdirSync(join(root, 'dist.tmp-4194305'));
  appendFileSync(join(root, 'src', 'cli.ts'), '\nconst = ;\n');

  const r = await run(process.execPath, [join(root, 'src', 'build.mjs')], hermeticEnv());

  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toMatch(/cli\.ts/);
  expect(readFileSync(join(root, 'dist', 'pyctl.js'), 'utf8')).toBe('// the last good build\n');
  expect(
    readdirSync(root)
      .filter((n) => n.startsWith('dist'))
      .sort(),
  ).toEqual(['dist']);
});
