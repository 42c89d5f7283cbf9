/** Table tests of the pure parts: versions, change sets, messages, masking, ref names, planning, config; dependency owners. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions } from '../src/packaging/pep440.js';
import { diffSets, changeLine, countChanges, countsFromBody, type PackageSet } from '../src/plan/changes.js';
import { planReconcile, expectedAfter } from '../src/plan/reconcile.js';
import { composeMessage, parseMessage } from '../src/gitstore/message.js';
import { maskSecrets, looksSecret, withoutSshPassword } from '../src/sharing/mask.js';
import { refNameProblem } from '../src/gitstore/refname.js';
import { parseConfig, DEFAULT_CONFIG_TEXT, DEFAULTS } from '../src/config/config.js';
import { parseFreeze } from '../src/packaging/parse-freeze.js';

const set = (text: string): PackageSet => parseFreeze(text);

describe('compareVersions', () => {
  it.each([
    ['1.0', '1.0.0', 0],
    ['1.0', '1.1', -1],
    ['1.10', '1.9', 1],
    ['1.0a1', '1.0', -1],
    ['1.0rc1', '1.0b2', 1],
    ['1.0.dev1', '1.0a1', -1],
    ['1.0.post1', '1.0', 1],
    ['1!0.1', '2.0', 1],
    ['2.0+local', '2.0', 1],
    ['2.0', '2.0.1.dev0', -1],
  ])('%s vs %s -> %i', (a, b, want) => {
    expect(Math.sign(compareVersions(a, b))).toBe(want);
  });
});

describe('diffSets', () => {
  it.each([
    ['a==1\n', 'a==1\nb==2\n', ['+ b 2']],
    ['a==1\nb==2\n', 'a==1\n', ['- b 2']],
    ['a==1\n', 'a==2\n', ['~ a 1 -> 2']],
    ['A_b==2\n', 'a-b==1\n', ['~ a-b 2 -> 1']],
    ['a==1\n', 'a==1\n', []],
    // A direct URL names no version: a wheel's file name does; a folder shows its URL.
    ['a==1\n', 'a==1\ntorch @ file:///w/torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl\n', ['+ torch 2.13.0+cpu']],
    ['t==2.12.0\n', 't @ file:///w/t-2.13.0-py3-none-any.whl\n', ['~ t 2.12.0 -> 2.13.0']],
    ['p @ file:///src/p\n', '', ['- p @ file:///src/p']],
  ])('%j -> %j', (before, after, want) => {
    expect(diffSets(set(before), set(after)).map(changeLine)).toEqual(want);
  });

  it('tells upgrades from downgrades', () => {
    expect(diffSets(set('x==2.0\n'), set('x==10.0\n'))[0].kind).toBe('upgraded');
    expect(diffSets(set('x==10.0\n'), set('x==2.0\n'))[0].kind).toBe('downgraded');
  });
});

describe('planReconcile', () => {
  it.each([
    // installed, target, remove, install, keep
    ['a==1\nb==1\n', 'a==1\nb==1\n', [], [], 2],
    ['a==1\nb==1\n', 'a==1\n', ['b'], [], 1],
    ['a==1\n', 'a==1\nc==3\n', [], ['c'], 1],
    ['a==1\n', 'a==2\n', ['a'], ['a'], 0],
    ['pip==23.2.1\na==1\n', 'a==1\n', [], [], 2],
    ['pip==23.2.1\n', 'pip==24.0\n', ['pip'], ['pip'], 0],
  ])('%j -> %j', (inst, target, remove, install, keep) => {
    const p = planReconcile(set(inst), set(target));
    expect(p.remove.map((s) => s.key)).toEqual(remove);
    expect(p.install.map((s) => s.key)).toEqual(install);
    expect(p.keep).toBe(keep);
  });

  it('expects pip to stay when the target lacks it', () => {
    expect([...expectedAfter(set('pip==23\na==1\n'), set('a==1\n')).keys()].sort()).toEqual(['a', 'pip']);
  });
});

describe('commit messages', () => {
  it('round-trips subject, body and trailers', () => {
    const changes = diffSets(set('a==1\n'), set('a==2\nb==1\n'));
    const msg = composeMessage('pip install  b\n -U a', changes, { op: 7, kind: 'install', exit: 0, python: '3.11.7' });
    expect(msg.split('\n')[0]).toBe('pip install b -U a');
    const parsed = parseMessage(msg);
    expect(parsed.meta).toEqual({ op: 7, kind: 'install', exit: 0, python: '3.11.7' });
    expect(parsed.body).toBe('~ a 1 -> 2\n+ b 1');
  });

  it.each([['edited config by hand\n'], ['subject\n\nSigned-off-by: someone <x@y>\n'], ['subject\n\nPyctl-Op: x\nPyctl-Kind: install\n']])('treats %j as a commit pyctl did not make', (m) => {
    expect(parseMessage(m).meta).toBeUndefined();
  });
});

describe('maskSecrets', () => {
  it.each([
    ['pip install -i https://user:hunter2@pypi.example/simple x', 'pip install -i https://user:****@pypi.example/simple x'],
    ['x @ https://ghp_abcdefghijklmnopqrstuvwxyz123456@github.com/o/r', 'x @ https://****@github.com/o/r'],
    ['git+ssh://git@github.com/o/r', 'git+ssh://git@github.com/o/r'],
    ['pip install --password=s3cret', 'pip install --password=****'],
    ['pip install requests', 'pip install requests'],
    // issue 17 row 6: short tokens, query strings, ssh passwords, --config-settings
    ['pip install -i https://s3cr3tT0k@pypi.example/simple x', 'pip install -i https://****@pypi.example/simple x'],
    ['pip install git+https://abc@github.com/o/r', 'pip install git+https://****@github.com/o/r'],
    ['pip install git+https://git@github.com/o/r', 'pip install git+https://git@github.com/o/r'],
    ['pip install -i https://${PIP_USER}@pypi.example/simple x', 'pip install -i https://${PIP_USER}@pypi.example/simple x'],
    ['x @ https://host/x.whl?access_token=abc123&v=1', 'x @ https://host/x.whl?access_token=****&v=1'],
    ['x @ https://host/x.whl?X-Amz-Signature=ff00&X-Amz-Security-Token=tt&sig=zz', 'x @ https://host/x.whl?X-Amz-Signature=****&X-Amz-Security-Token=****&sig=****'],
    ['https://h/p?key=AIza1', 'https://h/p?key=****'],
    ['git push ssh://u:pass@host/r.git', 'git push ssh://u:****@host/r.git'],
    ['ssh://deploy@host/r.git', 'ssh://deploy@host/r.git'],
    ['pip install . --config-settings token=abc', 'pip install . --config-settings token=****'],
    ['pip install . --config-settings=token=abc', 'pip install . --config-settings=token=****'],
    ['pip install . -Capi_key=abc -C password=p', 'pip install . -Capi_key=**** -C password=****'],
    ['pip install --token abc x', 'pip install --token **** x'],
    ['pip install tokenizers==0.15 secretstorage>=3 keyring', 'pip install tokenizers==0.15 secretstorage>=3 keyring'],
    ['pip install --config-settings author=me x', 'pip install --config-settings author=me x'],
  ])('%s', (input, want) => {
    expect(maskSecrets(input)).toBe(want);
    expect(looksSecret(input)).toBe(input !== want);
  });
});

describe('withoutSshPassword', () => {
  it.each([
    ['ssh://u:pass@host/r.git', 'ssh://u@host/r.git'],
    ['git+ssh://u:pass@host:22/r.git', 'git+ssh://u@host:22/r.git'],
    ['ssh://:pass@host/r.git', 'ssh://host/r.git'],
    ['ssh://u@host/r.git', 'ssh://u@host/r.git'],
    ['git@host:r.git', 'git@host:r.git'],
    ['https://u:p@host/r.git', 'https://u:p@host/r.git'],
  ])('%s', (input, want) => expect(withoutSshPassword(input)).toBe(want));
});

describe('snapshot names', () => {
  it.each(['dev-tools', 'ml/2024-05', 'v1.0', 'a_b'])('accepts %j', (n) => expect(refNameProblem(n)).toBeNull());
  it.each(['', '../x', 'a b', 'x.lock', 'a..b', 'a/', '/a', 'a//b', '.hidden', 'a:b', 'a~1', 'a^', 'a?', 'a*', 'a[', 'a\\b', '@', 'x@{1}', 'end.', 'auto/x', '-x', '42', 'x'.repeat(201), 'tab\there'])(
    'refuses %j',
    (n) => expect(refNameProblem(n)).not.toBeNull(),
  );
  // issue 17 row 13: names git would read as something else
  it.each(['HEAD', 'FETCH_HEAD', 'ORIG_HEAD', 'now', 'main', 'master', 'refs/heads/main', 'refs/tags/x', 'heads/x', 'remotes/origin/x', 'origin', 'origin/foo', 'up/x', 'topic'])(
    'refuses %j as a shadowing name',
    (n) => expect(refNameProblem(n, { branches: ['topic'], remotes: ['up'] })).not.toBeNull(),
  );
  it.each(['head', 'mainline', 'main-2', 'originals', 'ml/refs', 'upx/y'])('accepts %j next to branches and remotes', (n) =>
    expect(refNameProblem(n, { branches: ['topic'], remotes: ['up'] })).toBeNull(),
  );
});

describe('config.toml', () => {
  it('default text parses to the defaults with no warnings', () => {
    expect(parseConfig(DEFAULT_CONFIG_TEXT, 'config.toml')).toEqual({ config: DEFAULTS, warnings: [] });
  });
  it('warns on unknown keys and sections', () => {
    const { warnings } = parseConfig('[history]\nmax_entrys = 3\n[colour]\nx = 1\n', 'c.toml');
    expect(warnings).toEqual(['c.toml: unknown key history.max_entrys is ignored', 'c.toml: unknown section [colour] is ignored']);
  });
  it.each([
    ['[history\n', /c\.toml:1:\d+: /],
    ['[history]\nmax_entries = "ten"\n', /max_entries must be a number/],
    ['[history]\nmax_entries = 0\n', /whole number of 1 or more/],
    ['[ui]\ncolor = "yes"\n', /ui\.color must be true or false/],
    ['history = 3\n', /must be a table/],
  ])('rejects %j', (text, msg) => {
    expect(() => parseConfig(text, 'c.toml')).toThrow(msg);
  });
});

describe('one owner per dependency', () => {
  // Only these modules may import each runtime dependency by value (`import type` is free).
  const OWNERS: Record<string, string> = {
    commander: 'src/cli.ts',
    'isomorphic-git': 'src/gitstore/git.ts',
    execa: 'src/proc.ts',
    'smol-toml': 'src/toml.ts',
    diff: 'src/render/unified.ts',
  };
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

  it('each runtime dependency is imported by its one owner, and every dependency has one', () => {
    // All are bundled into dist/, so they are devDependencies: the npm package installs nothing.
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    const tooling = ['@types/node', 'esbuild', 'fflate', 'typescript', 'vitest', 'eslint', '@eslint/js', 'typescript-eslint', 'eslint-config-prettier', 'prettier'];
    const deps = Object.keys(pkg.devDependencies).filter((d) => !tooling.includes(d));
    expect(deps.sort()).toEqual(Object.keys(OWNERS).sort());
    const importers: Record<string, string[]> = {};
    for (const f of files('src')) {
      const text = readFileSync(f, 'utf8');
      for (const d of deps) {
        const q = d.replace(/[-/]/g, '\\$&');
        const byValue = new RegExp(`^import (?!type )[^;]*from '${q}'|import\\('${q}'\\)|^import '${q}'`, 'm');
        if (byValue.test(text)) (importers[d] ??= []).push(f);
      }
    }
    for (const d of deps) expect(importers[d], d).toEqual([OWNERS[d]]);
  });
});

describe("the record lane takes only the pip hook's own call", () => {
  it.each([
    [['status']],
    [['_record', '--phase', 'post', '--', 'install', 'x']], // no --home
    [['_record', '--home', '/h', '--phase', 'post', 'install', 'x']], // no --
    [['_record', '--home', '/h', '--phase', 'post', '--verbose', '--', 'install']], // a flag the hook never passes
    [['_record', '--home', '/h', '--home', '/g', '--phase', 'post', '--', 'install']],
    [['_record', '--home']],
  ])('%j goes to the full CLI', async (argv) => {
    const { recordLane } = await import('../src/lanes/record.js');
    expect(await recordLane(argv)).toBe(false);
  });
});

describe('undo/redo labels', async () => {
  const { labelUndo, isUndo } = await import('../src/operations/undo-label.js');
  it('names the operation undone, flattening undos of undos', () => {
    const install = { op: 32, kind: 'install' as const, subject: 'pip install torch' };
    const u = labelUndo([install]);
    expect(u).toEqual({ kind: 'undo', subject: 'undo of 32: pip install torch', target: '32' });
    const r = labelUndo([{ op: 33, ...u }]);
    expect(r).toEqual({ kind: 'redo', subject: 'redo of 32: pip install torch', target: '32' });
    expect(labelUndo([{ op: 34, ...r }]).subject).toBe('undo of 32: pip install torch');
    expect(isUndo({ op: 33, ...u })).toBe(true);
    expect(isUndo({ op: 34, ...r })).toBe(false);
    expect(isUndo(install)).toBe(false);
  });
  it('reads subjects written before redo existed', () => {
    expect(labelUndo([{ op: 2, kind: 'undo', subject: 'pyctl undo (operation 1: pip install a)', target: '1' }]).subject).toBe('redo of 1: pip install a');
    expect(labelUndo([{ op: 3, kind: 'undo', subject: 'pyctl undo (operation 2: an undo of operation 1)', target: '2' }])).toMatchObject({ kind: 'undo', subject: 'undo of 1' });
    expect(labelUndo([{ op: 8, kind: 'undo', subject: 'pyctl undo 3 (operations 5-7)', target: '5-7' }]).subject).toBe('redo of 5-7');
  });
  it('names ranges and --to', () => {
    const ops = [
      { op: 7, kind: 'install' as const, subject: 'pip install b' },
      { op: 6, kind: 'undo' as const, subject: 'undo of 5: pip install a', target: '5' },
    ];
    expect(labelUndo(ops, 5)).toEqual({ kind: 'undo', subject: 'undo of 6-7, back to 5: undo of 5: pip install a; pip install b', target: '6-7' });
    const undos = [
      { op: 9, kind: 'undo' as const, subject: 'undo of 4: pip install y', target: '4' },
      { op: 8, kind: 'undo' as const, subject: 'undo of 3: pip install x', target: '3' },
    ];
    expect(labelUndo(undos)).toEqual({ kind: 'redo', subject: 'redo of 3, 4: pip install x; pip install y', target: '3, 4' });
  });
});

describe('pip arguments', async () => {
  const { pipQuiet, namedPackages } = await import('../src/pip/args.js');
  it('finds quiet and the named packages', () => {
    expect(pipQuiet(['install', '-q', 'x'], {})).toBe(true);
    expect(pipQuiet(['install', '-Uqq', 'x'], {})).toBe(true);
    expect(pipQuiet(['install', '-U', 'x'], {})).toBe(false);
    expect(pipQuiet(['uninstall', '-yq', 'x'], {})).toBe(true);
    expect(pipQuiet(['uninstall', '-qy', 'x'], {})).toBe(true);
    expect(pipQuiet(['install', '-rq', 'x'], {})).toBe(false); // -r with the file 'q'
    expect(pipQuiet(['install', 'x'], { PIP_QUIET: '1' })).toBe(true);
    expect(pipQuiet(['install', 'x'], { PIP_QUIET: '0' })).toBe(false);
    expect([...namedPackages(['install', '-U', 'Black[d]>=24', 'torch==2.1', './local', '-r', 'r.txt'])]).toEqual(['black', 'torch', 'r-txt']);
  });
});

describe('change counts read back from a commit body (history --json)', () => {
  it.each([
    ['an upgrade', 'a==1.0\n', 'a==2.0\n', { upgraded: 1 }],
    ['a downgrade', 'a==2.0\n', 'a==1.0\n', { downgraded: 1 }],
    ['a pre-release to its release', 'a==1.0rc1\n', 'a==1.0\n', { upgraded: 1 }],
    ['a release to its dev build', 'a==1.0\n', 'a==1.0.dev1\n', { downgraded: 1 }],
    ['same version, another line', 'a==1.0\n', 'a===1.0\n', { changed: 1 }],
    ['added and removed', 'a==1.0\n', 'b==1.0\n', { added: 1, removed: 1 }],
    ['one of each', 'a==1\nb==2\nc==1\nd==1\n', 'a==2\nb==1\nd==1\ne==1\n', { upgraded: 1, downgraded: 1, removed: 1, added: 1 }],
  ])('%s', (_, before, after, want) => {
    const changes = diffSets(set(before), set(after));
    const body = changes.map(changeLine).join('\n');
    const counts = { added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 0, ...want };
    expect(countsFromBody(body)).toEqual(counts);
    expect(countsFromBody(body)).toEqual(countChanges(changes));
  });

  it('ignores lines that are not change lines, and a trimmed empty version', () => {
    expect(countsFromBody('~ a  ->\nsomething else\n+x')).toEqual({ added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 1 });
  });
});

describe('freeze lines: one reading of editable and direct-URL lines', async () => {
  const { editableTarget, directUrl, requirementLine } = await import('../src/packaging/parse-freeze.js');
  it.each([
    ['-e /home/me/proj', '/home/me/proj', null],
    ['--editable=git+https://h/r.git#egg=r', 'git+https://h/r.git#egg=r', null],
    ['  -e   ./x  ', './x', null],
    ['click @ file:///w/click-8.1.7-py3-none-any.whl', null, 'file:///w/click-8.1.7-py3-none-any.whl'],
    ['pkg[extra]@https://h/p.tar.gz#sha256=ab', null, 'https://h/p.tar.gz#sha256=ab'],
    ['click==8.1.7', null, null],
    ['-encoding', null, null],
  ])('%s', (line, editable, url) => {
    expect(editableTarget(line)).toBe(editable);
    expect(directUrl(line)).toBe(url);
  });
  it("an editable entry's requirement line is its last, after pip's comments; pin() installs that line", async () => {
    const { pin } = await import('../src/reconcile/sources.js');
    const e = [...parseFreeze('# Editable install with no version control (proj==0.1)\n-e /home/me/proj\n').values()][0];
    expect(e.name).toBe('proj');
    expect(requirementLine(e)).toBe('-e /home/me/proj');
    expect(editableTarget(requirementLine(e))).toBe('/home/me/proj');
    expect(pin({ key: 'proj', name: e.name, version: e.version, line: e.line })).toBe('-e /home/me/proj');
    expect(pin({ key: 'a', name: 'a', version: '1.0', line: 'a==1.0' })).toBe('a==1.0');
  });
});
