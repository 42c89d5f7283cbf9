/**
 * The shell examples in README.md and docs/ that are marked runnable run, as a new user would
 * type them: a fresh $HOME with `pyctl init` done (as ./install.sh does), the venv first on PATH,
 * pyctl on PATH, and pip offline against tiny wheels built here under the names the docs use.
 *
 * The marker is an HTML comment on the line before the fence (invisible on GitHub):
 *
 *   <!-- runnable -->                  run the block as it is
 *   <!-- runnable: CMD; CMD; ... -->   run these first (the state the example assumes), then it
 *
 * Each block starts from the same freshly initialised home (built once, put back by
 * helpers/states.ts), so any example runs alone or in any order: what it assumes goes in its
 * marker. Where markers begin with the same commands (separated by `; `; four start with
 * `pip install -q black`), the home after those is kept as a state, built once (they run in their
 * own shell); the rest of a marker runs in the example's shell, before it. Each runs under
 * `bash -e -o pipefail`: every command in a marked block must succeed. Mark only blocks that work
 * offline and change nothing outside the temp home.
 */
import { execa } from 'execa';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

const REPO = resolve(__dirname, '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Example {
  file: string;
  line: number;
  setup: string;
  code: string;
}

/** Marked blocks of one Markdown file; a marker not followed by a shell fence is an error. */
export function runnableExamples(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  lines.forEach((l, i) => {
    const m = /^<!--\s*runnable(?::\s*(.*?))?\s*-->\s*$/.exec(l);
    if (!m) return;
    if (!/^```(bash|sh)\s*$/.test(lines[i + 1] ?? '')) throw new Error(`${file}:${i + 1}: a runnable marker must be followed by a \`\`\`bash block`);
    const end = lines.findIndex((x, j) => j > i + 1 && /^```\s*$/.test(x));
    if (end < 0) throw new Error(`${file}:${i + 2}: unclosed code block`);
    out.push({ file, line: i + 2, setup: m[1] ?? '', code: lines.slice(i + 2, end).join('\n') });
  });
  return out;
}

const examples = DOCS.flatMap((f) => runnableExamples(f, readFileSync(join(REPO, f), 'utf8')));
const byFile = [...new Set(examples.map((e) => e.file))];

let root: string;
let wheels: string;
let bin: string;

beforeAll(() => {
  root = tempDir('pyctl-docs-');
  // The packages the examples name, tiny and real (black needs click, requests urllib3, as on PyPI).
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'requests', version: '2.31.0', requires: ['urllib3>=1.21.1'] },
    { name: 'urllib3', version: '2.2.1' },
    { name: 'black', version: '24.4.2', requires: ['click>=8.0.0'], scripts: { black: 'black:main' } },
    { name: 'click', version: '8.1.7' },
    { name: 'torch', version: '2.3.0' },
  ]);
  // `pyctl` on PATH as the launcher install.sh puts in ~/.local/bin.
  bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'pyctl'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'pyctl'), 0o755);
});
afterAll(() => removeDir(root));

it('the docs mark runnable examples (README and the command reference at least)', () => {
  expect(byFile).toEqual(expect.arrayContaining(['README.md', 'docs/commands.md']));
  expect(examples.length).toBeGreaterThanOrEqual(8);
});

// One home for every file's examples (tests in a file run one at a time), so `pyctl init` runs once.
let home: string;
let env: Record<string, string>;
let states: HomeStates;

beforeAll(() => {
  home = join(root, 'home');
  // No example writes pip's or setuptools' files in place: the cache's files are linked, not copied.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
  // In front of the hermetic PATH (helpers/env.ts), not the machine's: pip's user agent then skips
  // rustc and lsb_release (~0.2-0.3 s of CPU a pip run), as in every other test.
  env = hermeticEnv({
    HOME: home,
    PATH: `${join(home, '.local/python-packages/venv/bin')}:${bin}:${hermeticEnv().PATH}`,
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: wheels,
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    XDG_CONFIG_HOME: join(home, '.config'),
  });
});

/** Run a script as the docs' reader would: in ~/work, every command must succeed. */
const bash = (script: string) => execa('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: join(home, 'work'), env, extendEnv: false, reject: false });

/**
 * The home after a marker's first `steps` commands: what ./install.sh leaves (an initialized home
 * at the default place, in $HOME/.local), then each command in turn, each state built on the one before.
 */
const prepared = async (steps: string[]): Promise<void> => {
  if (!steps.length)
    return states.given('installed', async () => {
      removeDir(home);
      mkdirSync(join(home, 'work'), { recursive: true });
      const r = await execa(join(bin, 'pyctl'), ['init'], { env, extendEnv: false, reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
    });
  return states.given(`after: ${steps.join('; ')}`, async () => {
    await prepared(steps.slice(0, -1));
    const r = await bash(`${steps[steps.length - 1]}\n`);
    expect(r.exitCode, `${steps.join('; ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/^(error|hint):/m);
  });
};

const stepsOf = (e: Example) => (e.setup ? e.setup.split('; ') : []);
/** The first commands of two or more markers. */
const sharedStarts = new Set(examples.flatMap((e) => stepsOf(e).map((_, i, steps) => steps.slice(0, i + 1).join('; '))).filter((start, i, all) => all.indexOf(start) !== i));

describe.each(byFile)('%s', (file) => {
  it.each(examples.filter((e) => e.file === file).map((e) => [`line ${e.line}`, e] as const))('runs the example at %s', async (_l, e) => {
    const steps = stepsOf(e);
    let kept = steps.length;
    while (kept > 0 && !sharedStarts.has(steps.slice(0, kept).join('; '))) kept--;
    await prepared(steps.slice(0, kept));
    const r = await bash(`${steps.slice(kept).join('\n')}\n${e.code}\n`);
    expect(r.exitCode, `${e.file}:${e.line}\n${e.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/^(error|hint):/m);
  });
});
