/**
 * Never a wheel for the wrong Python (issue 17): a venv on pyenv's 3.11 holding a binary package
 * (a cp311 wheel with an extension module) moved to 3.12 brings every package across from the
 * index, or changes nothing; undo/restore of a state recorded on 3.11 installs the 3.12 build or
 * refuses before changing anything (and so do redo, clean --keep-baseline, bisect run, restore of a
 * fetched snapshot and init --from); doctor flags a cp311 extension in a 3.12 venv.
 * Real pyenv Pythons, real pip, tiny real wheels in find-links folders (offline).
 */
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pip, pyctl as runPyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { binaryTag, buildWheel, extSuffix } from './helpers/wheels.js';

const PYENV = join(process.env.PYENV_ROOT || join(homedir(), '.pyenv'), 'versions');
function pyenvPython(minor: string): string | null {
  try {
    const v = readdirSync(PYENV)
      .filter((d) => d.startsWith(minor + '.'))
      .sort()
      .pop();
    return v && existsSync(join(PYENV, v, 'bin', `python${minor}`)) ? join(PYENV, v, 'bin', `python${minor}`) : null;
  } catch {
    return null;
  }
}
const py311 = pyenvPython('3.11');
const py312 = pyenvPython('3.12');
const skip = !py311 || !py312 || process.platform !== 'linux';

let root: string, home: string, venv: string, idx311: string, idx312: string, pure: string;
let states: HomeStates;
const pyctl = (args: string[], extra: Record<string, string | undefined> = {}) => runPyctl(home, args, { PIP_NO_INDEX: '1', ...extra });
const site = (xy: string) => join(venv, 'lib', `python${xy}`, 'site-packages');
const ops = async () => (await git(home, ['rev-list', '--count', 'HEAD'])).trim();
const fingerprint = () => readFileSync(join(venv, 'pyvenv.cfg'), 'utf8') + readdirSync(venv).join(',') + readdirSync(home).join(',');

/** fastpkg 1.0 built for CPython X.Y: a package with a (fake) extension module. */
function binary(dir: string, xy: string) {
  buildWheel(dir, {
    name: 'fastpkg',
    version: '1.0',
    tag: binaryTag(xy),
    files: { 'fastpkg/__init__.py': 'VERSION = "1.0"\n', [`fastpkg/_speedups${extSuffix(xy)}`]: `not really an ELF file for ${xy}\n` },
  });
}

beforeAll(async () => {
  if (skip) return;
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  idx311 = join(root, 'idx311');
  idx312 = join(root, 'idx312');
  pure = join(root, 'pure');
  binary(idx311, '3.11');
  binary(idx312, '3.12');
  buildWheel(pure, { name: 'alpha', version: '1.0' });
  buildWheel(pure, { name: 'newonly', version: '1.0', metadata: ['Requires-Python: >=3.12'] });
  // None of these tests writes into pip's or setuptools' files in place (a move makes a new venv):
  // the cache's files are linked, not copied.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => root && removeDir(root));

// The states tests start from (helpers/states.ts), each built once and put back by every test
// that asks for it, so any test passes alone or in any order.
/** A venv on 3.11 holding fastpkg (its cp311 build) and alpha: operation 1. */
const on311 = async (read: 'read' | 'change') => {
  const build = async () => {
    removeDir(home);
    const init = await pyctl(['init', '--python', py311!]);
    expect(init.exitCode, init.stderr).toBe(0);
    const r = await pip(venv, ['install', 'fastpkg', 'alpha'], { env: { PIP_FIND_LINKS: `${idx311} ${pure}`, PYCTL_HOME: home } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(site('3.11'), 'fastpkg', `_speedups${extSuffix('3.11')}`))).toBe(true);
  };
  await (read === 'read' ? states.givenToRead('on311', build) : states.given('on311', build));
};
/** That venv moved to 3.12 with the index's 3.12 build of fastpkg (both builds kept); what the move printed. */
let move: Awaited<ReturnType<typeof pyctl>>;
const moved = () =>
  states.given('moved', async () => {
    await on311('change');
    move = await pyctl(['init', '--python', py312!], { PIP_FIND_LINKS: `${idx312} ${pure}` });
    expect(move.exitCode, move.stderr).toBe(0);
  });

/** Then `pip uninstall -y fastpkg` recorded (operation 3): the tests of bringing it back start here. */
const movedUninstalled = () =>
  states.given('moved-uninstalled', async () => {
    await moved();
    expect((await pip(venv, ['uninstall', '-y', 'fastpkg'], { env: { PYCTL_HOME: home } })).exitCode).toBe(0);
  });

/** The 3.12 build is also kept as a stored package (linked back by undo): these tests are about wheels only. */
const forgetStored = (pin: string) => rmSync(join(home, '.git', 'pyctl', 'packages', `${pin}.json`), { force: true });

describe.skipIf(skip)('moving a venv to another Python: all or nothing', () => {
  it('refuses when a binary package has no build for the new Python, naming it; nothing changes', async () => {
    await on311('read');
    const before = fingerprint();
    const n = await ops();
    const r = await pyctl(['init', '--python', py312!], { PIP_FIND_LINKS: `${idx311} ${pure}` });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot move the venv to Python 3\.12\.\d+: no build for CPython 3\.12\.\d+ of fastpkg==1\.0 \(.*built for CPython 3\.11/m);
    expect(r.stderr).toMatch(/^hint: the venv stays on Python 3\.11\.\d+, unchanged, and nothing was recorded/m);
    expect(r.stderr).not.toMatch(/alpha==/); // a pure wheel comes across
    expect(fingerprint()).toBe(before);
    expect(await ops()).toBe(n);
  });

  it('--dry-run says what would come across and what would not', async () => {
    await on311('read');
    const before = fingerprint();
    const no = await pyctl(['init', '--python', py312!, '--dry-run'], { PIP_FIND_LINKS: `${idx311} ${pure}` });
    expect(no.exitCode, no.stderr).toBe(1);
    expect(no.stdout).toMatch(/would be refused: 1 package\(s\) have no build for it/);
    expect(no.stdout).toMatch(/would come across from the wheelhouse: alpha==1\.0/);
    expect(no.stdout).toMatch(/would not come across \(1\):\n {4}fastpkg==1\.0: /);
    const yes = await pyctl(['init', '--python', py312!, '--dry-run'], { PIP_FIND_LINKS: `${idx312} ${pure}` });
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/would bring every package across \(dry run: nothing changed\)/);
    expect(yes.stdout).toMatch(/1 would come across from the index: fastpkg==1\.0/);
    expect(fingerprint()).toBe(before);
    // A dry run keeps nothing it fetched.
    expect(readdirSync(join(home, 'wheelhouse')).filter((f) => f.includes('cp312'))).toEqual([]);
  });

  it('moves with every package when the index has the 3.12 build, and keeps both builds', async () => {
    await moved(); // the move is made (once) by the state; its output is checked here
    const r = move;
    expect(r.stdout).toMatch(/moved .* to Python 3\.12\.\d+ \(was 3\.11\.\d+\)/);
    expect(r.stdout).toMatch(/1 came across from the index: fastpkg==1\.0/);
    expect(readFileSync(join(venv, 'pyvenv.cfg'), 'utf8')).toMatch(/^version\w* = 3\.12/m);
    expect(existsSync(join(site('3.12'), 'fastpkg', `_speedups${extSuffix('3.12')}`))).toBe(true);
    expect(existsSync(join(site('3.12'), 'fastpkg', `_speedups${extSuffix('3.11')}`))).toBe(false);
    const kept = readdirSync(join(home, 'wheelhouse')).filter((f) => f.startsWith('fastpkg-'));
    expect(kept.sort()).toEqual([`fastpkg-1.0-${binaryTag('3.11')}.whl`, `fastpkg-1.0-${binaryTag('3.12')}.whl`]);
    expect(readdirSync(home).filter((n) => /^venv\.(old|new)-/.test(n))).toEqual([]);
  });

  it('undo/restore across the move installs the 3.12 build, or refuses before changing anything', async () => {
    await movedUninstalled();
    // Only the cp311 build kept, no index: refuse, name it, change nothing.
    const cp312 = join(home, 'wheelhouse', `fastpkg-1.0-${binaryTag('3.12')}.whl`);
    const saved = readFileSync(cp312);
    unlinkSync(cp312);
    forgetStored('fastpkg==1.0');
    const n = await ops();
    const no = await pyctl(['undo']);
    expect(no.exitCode).toBe(1);
    expect(no.stderr).toMatch(/^error: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \(kept wheel fastpkg-1\.0-cp311-cp311-\w+\.whl: built for CPython 3\.11/m);
    expect(no.stderr).toMatch(/^hint: nothing was changed/m);
    expect(existsSync(join(site('3.12'), 'fastpkg'))).toBe(false);
    expect(await ops()).toBe(n);
    // The restore of operation 1 (recorded on 3.11) the same way.
    const rs = await pyctl(['restore', '1']);
    expect(rs.exitCode).toBe(1);
    expect(rs.stderr).toMatch(/cannot get fastpkg==1\.0 for CPython 3\.12/);
    expect(existsSync(join(site('3.12'), 'fastpkg'))).toBe(false);
    // The kept 3.12 build is used offline, never the cp311 one.
    writeFileSync(cp312, saved);
    const yes = await pyctl(['undo']);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(readdirSync(join(site('3.12'), 'fastpkg')).filter((f) => f.endsWith('.so'))).toEqual([`_speedups${extSuffix('3.12')}`]);
  });

  it('the index is asked for the 3.12 build when only the cp311 one is kept', async () => {
    await movedUninstalled();
    unlinkSync(join(home, 'wheelhouse', `fastpkg-1.0-${binaryTag('3.12')}.whl`));
    forgetStored('fastpkg==1.0');
    const r = await pyctl(['undo'], { PIP_FIND_LINKS: idx312 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kept only in builds that do not fit this Python/);
    expect(readdirSync(join(site('3.12'), 'fastpkg')).filter((f) => f.endsWith('.so'))).toEqual([`_speedups${extSuffix('3.12')}`]);
  });

  it("a build pip installs after the move is kept beside the other Python's", async () => {
    await movedUninstalled();
    unlinkSync(join(home, 'wheelhouse', `fastpkg-1.0-${binaryTag('3.12')}.whl`));
    expect((await pip(venv, ['install', 'fastpkg'], { env: { PIP_FIND_LINKS: idx312, PYCTL_HOME: home } })).exitCode).toBe(0);
    // pip's 3.12 build is kept as a stored package (hard links, its WHEEL tags recorded), no wheel rebuilt.
    const kept = readdirSync(join(home, 'wheelhouse')).filter((f) => f.startsWith('fastpkg-'));
    expect(kept).toEqual([`fastpkg-1.0-${binaryTag('3.11')}.whl`]);
    const stored = JSON.parse(readFileSync(join(home, '.git', 'pyctl', 'packages', 'fastpkg==1.0.json'), 'utf8')) as { python: string; tags: string[] };
    expect(stored.python).toBe('3.12');
    expect(stored.tags).toEqual([binaryTag('3.12')]);
  });
});

interface Item {
  check: string;
  status: string;
  message: string;
  fixed: string | null;
}
const packagesItem = async (args: string[] = [], extra: Record<string, string> = {}) => {
  const r = await pyctl(['--json', 'doctor', ...args], { HOME: root, ...extra });
  return (JSON.parse(r.stdout) as Item[]).find((i) => i.check === 'packages')!;
};

describe.skipIf(skip)('doctor: packages that do not fit the venv', () => {
  it('flags a planted cp311 extension, a build tagged for 3.11 and a missing file in the 3.12 venv; --fix repairs them', async () => {
    await moved();
    const first = await packagesItem();
    expect(first.status, first.message).toBe('ok');
    const stray = join(site('3.12'), 'fastpkg', `_old${extSuffix('3.11')}`);
    writeFileSync(stray, 'left by a 3.11 install\n');
    unlinkSync(join(site('3.12'), 'alpha.py'));
    const wheelMeta = join(site('3.12'), 'fastpkg-1.0.dist-info', 'WHEEL');
    writeFileSync(wheelMeta, readFileSync(wheelMeta, 'utf8').replace(/^Tag: .*$/m, `Tag: ${binaryTag('3.11')}`));
    const found = await packagesItem();
    expect(found.status).toBe('problem');
    expect(found.message).toMatch(/fastpkg 1\.0: built for CPython 3\.11 \(cp311-cp311-\w+\), not for this CPython 3\.12/);
    expect(found.message).toMatch(/alpha 1\.0: 1 file\(s\) its RECORD lists are missing \(alpha\.py\)/);
    expect(found.message).toMatch(/fastpkg\/_old\.cpython-311-\w+-linux-gnu\.so is an extension module for another Python/);
    const n = await ops();
    // The WHEEL edit above went through the hard link into fastpkg's stored copy too: the store
    // refuses it (never an edited file as the original), so the 3.12 build comes from the index.
    const fixed = await packagesItem(['--fix'], { PIP_FIND_LINKS: idx312 });
    expect(fixed.fixed).toMatch(/^reinstalled alpha, fastpkg built for this Python; deleted .*_old\.cpython-311/);
    expect(fixed.status).toBe('ok');
    expect(existsSync(join(site('3.12'), 'alpha.py'))).toBe(true);
    expect(existsSync(stray)).toBe(false);
    expect(readFileSync(wheelMeta, 'utf8')).toMatch(new RegExp(`^Tag: ${binaryTag('3.12')}$`, 'm'));
    expect(await ops()).toBe(n); // the same versions: nothing to record
  });
});

describe.skipIf(skip)('--drop-missing', () => {
  it('a move without a build to be had is refused; --drop-missing moves without it, listed; Requires-Python is honoured', async () => {
    await moved();
    // newonly needs Python >= 3.12: its kept (py3-none-any) wheel must not go into 3.11.
    expect((await pip(venv, ['install', 'newonly'], { env: { PIP_FIND_LINKS: pure, PYCTL_HOME: home } })).exitCode).toBe(0);
    const before = fingerprint();
    const n = await ops();
    const r0 = await pyctl(['init', '--python', py311!], { PIP_FIND_LINKS: pure });
    expect(r0.exitCode).toBe(1);
    expect(r0.stderr).toMatch(/newonly==1\.0 \(kept wheel newonly-1\.0-py3-none-any\.whl: requires Python >=3\.12, this is 3\.11\.\d+/);
    expect(r0.stderr).not.toMatch(/fastpkg/); // its cp311 build is kept
    expect(fingerprint()).toBe(before);
    expect(await ops()).toBe(n);
    const r = await pyctl(['init', '--python', py311!, '--drop-missing'], { PIP_FIND_LINKS: pure });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/moved .* to Python 3\.11\.\d+ \(was 3\.12\.\d+\)/);
    expect(r.stdout).toMatch(/left out \(--drop-missing\) \(1\):\n {4}newonly==1\.0: /);
    expect(existsSync(join(site('3.11'), 'fastpkg', `_speedups${extSuffix('3.11')}`))).toBe(true);
    expect(await git(home, ['show', 'HEAD:freeze.txt'])).not.toMatch(/newonly/);
    expect(Number(await ops())).toBe(Number(n) + 1);
  });
});

/**
 * Every other path that installs a wheel (issue 17): redo, clean, bisect and sharing, over
 * states recorded on 3.11 in a venv moved to 3.12 (each goes through reconcile/sources.ts). The
 * same home and states as the first describe, its states built from on311 (the same operation 1):
 * fastpkg's cp311 build is what 3.11 left behind; the 3.12 build is to be had only when a test
 * puts idx312 in find-links.
 */
describe.skipIf(skip)('every path that installs a wheel checks the fit: redo, clean, bisect, sharing', () => {
  let h: string, hv: string, bare: string, probeLog: string, paths: HomeStates;
  const run = (args: string[], extra: Record<string, string | undefined> = {}, at = h) => runPyctl(at, args, { PIP_NO_INDEX: '1', ...extra });
  const hsite = (xy: string) => join(hv, 'lib', `python${xy}`, 'site-packages');
  const head = async () => (await git(h, ['rev-parse', 'HEAD'])).trim();
  /** What must not move when an operation is refused: HEAD, the recorded freeze, the venv's Python and its packages. */
  const state = async () => [await head(), readFileSync(join(h, 'freeze.txt'), 'utf8'), readFileSync(join(hv, 'pyvenv.cfg'), 'utf8'), readdirSync(hsite('3.12')).sort().join(',')].join('\n--\n');
  const soFiles = (sp: string) => (existsSync(join(sp, 'fastpkg')) ? readdirSync(join(sp, 'fastpkg')).filter((f) => f.endsWith('.so')) : []);
  const keptFast = () =>
    readdirSync(join(h, 'wheelhouse'))
      .filter((f) => f.startsWith('fastpkg-'))
      .sort();
  // The bisect test command: logs the fastpkg extension modules its venv holds; bad when there are any.
  const probe = () => [
    'python',
    '-c',
    `import glob,os,sys; fs=sorted(os.path.basename(f) for f in glob.glob(os.path.join(sys.prefix,'lib','python*','site-packages','fastpkg','*.so'))); open(${JSON.stringify(probeLog)},'a').write(' '.join(fs)+'\\n'); sys.exit(1 if fs else 0)`,
  ];

  beforeAll(() => {
    h = home;
    hv = venv;
    probeLog = join(root, 'probe.log');
    bare = join(root, 'shared.git');
    paths = states;
  });

  /**
   * Operation 1 on 3.11 installed fastpkg (cp311) and alpha, named ml (pushed to the bare repo) and
   * baseline; operation 2 undid it; operation 3 moved the venv to 3.12 with nothing binary in it.
   */
  const movedPaths = (read: 'read' | 'change') => (read === 'read' ? paths.givenToRead('paths-moved', buildPaths) : paths.given('paths-moved', buildPaths));
  const buildPaths = async () => {
    removeDir(bare);
    await git(root, ['init', '-q', '--bare', bare]); // a real bare repo, served over file://
    // Operation 1 on 3.11: fastpkg (cp311) and alpha; named ml (shared) and baseline (for clean).
    await on311('change');
    expect((await run(['snapshot', 'ml'])).exitCode).toBe(0);
    expect((await run(['snapshot', '-f', 'baseline'])).exitCode).toBe(0); // init made one of the empty venv
    expect((await run(['undo'])).exitCode).toBe(0); // operation 2: back to nothing
    expect((await run(['remote', 'add', 'origin', `file://${bare}`])).exitCode).toBe(0);
    const push = await run(['push']);
    expect(push.exitCode, push.stderr).toBe(0);
    // The move (operation 3): nothing binary installed at that point, so it needs no 3.12 build.
    const move = await run(['init', '--python', py312!], { PIP_FIND_LINKS: pure });
    expect(move.exitCode, move.stderr).toBe(0);
    expect(readFileSync(join(hv, 'pyvenv.cfg'), 'utf8')).toMatch(/^version\w* = 3\.12/m);
  };
  /** Then restore 1 with the index's 3.12 build (kept since) and an undo of it: the venv holds nothing binary again. */
  const with312Kept = () =>
    paths.given('paths-312-kept', async () => {
      await movedPaths('change');
      expect((await run(['restore', '1'], { PIP_FIND_LINKS: idx312 })).exitCode).toBe(0);
      expect((await run(['undo'])).exitCode).toBe(0);
    });

  it('clean --keep-baseline (recorded on 3.11) refuses without a 3.12 build, naming it; nothing changes', async () => {
    await movedPaths('read');
    const before = await state();
    const r = await run(['clean', '--keep-baseline'], { PIP_FIND_LINKS: idx311 });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \(.*built for CPython 3\.11/m);
    expect(await state()).toBe(before);
    expect(readdirSync(h).filter((n) => /^venv\./.test(n))).toEqual([]);
    // The cp311 build was at hand (made from 3.11's stored copy) and was not used.
    expect(keptFast()).toEqual([`fastpkg-1.0-${binaryTag('3.11')}.whl`]);
  });

  it('bisect run over 3.11 states never puts the cp311 build in its scratch venv', async () => {
    await movedPaths('read');
    rmSync(probeLog, { force: true });
    const before = await state();
    const r = await run(['bisect', 'run', '--good', '0', '--bad', '1', '--', ...probe()]);
    expect(r.exitCode).not.toBe(0); // the bad end cannot be built offline for 3.12
    expect(r.stderr).toMatch(/operation 1 \.\.\. skip \(it cannot be built: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \(kept wheel fastpkg-1\.0-cp311-cp311-\w+\.whl: built for CPython 3\.11/);
    const seen = existsSync(probeLog) ? readFileSync(probeLog, 'utf8') : '';
    expect(seen).not.toMatch(/cpython-311/);
    expect(await state()).toBe(before);
    expect(
      readdirSync(root)
        .concat(readdirSync(h))
        .filter((n) => n.includes('bisect')),
    ).toEqual([]);
  });

  it('restore of a fetched snapshot recorded on 3.11 refuses without a 3.12 build; nothing changes', async () => {
    await movedPaths('change');
    expect((await run(['fetch'])).exitCode).toBe(0);
    const before = await state();
    const r = await run(['restore', 'origin/ml'], { PIP_FIND_LINKS: `${idx311} ${pure}` });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \(kept wheel fastpkg-1\.0-cp311-cp311-\w+\.whl: built for CPython 3\.11/m);
    expect(await state()).toBe(before);
  });

  it('init --from a remote whose snapshot was recorded on 3.11, into a 3.12 home: the 3.12 build or a refusal', async () => {
    await movedPaths('read'); // the remote it clones
    const other = join(root, 'from-home');
    removeDir(other);
    // The 3.11 venv's setuptools (3.12 venvs have none) comes from that Python's own bundle.
    const bundled = join(py311!, '..', '..', 'lib', 'python3.11', 'ensurepip', '_bundled');
    const no = await run(['init', '--from', `file://${bare}`, '--snapshot', 'ml', '--python', py312!], { PIP_FIND_LINKS: `${idx311} ${pure} ${bundled}` }, other);
    expect(no.exitCode, no.stdout).not.toBe(0);
    expect(no.stderr).toMatch(/^error: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \([^;]*\)$/m); // fastpkg alone
    expect(soFiles(join(other, 'venv', 'lib', 'python3.12', 'site-packages'))).toEqual([]);
    removeDir(other);
    const yes = await run(['init', '--from', `file://${bare}`, '--snapshot', 'ml', '--python', py312!], { PIP_FIND_LINKS: `${idx311} ${idx312} ${pure} ${bundled}` }, other);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(soFiles(join(other, 'venv', 'lib', 'python3.12', 'site-packages'))).toEqual([`_speedups${extSuffix('3.12')}`]);
  });

  it('redo: across the move there is nothing to redo', async () => {
    // The move is an operation: redo right after it takes back no undo, and changes nothing.
    await movedPaths('read');
    const before = await state();
    const none = await run(['redo']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/^error: nothing to redo: the last operation, 3 \(.*\), is not an undo/m);
    expect(await state()).toBe(before);
  });

  it('a redo of a 3.11 state after the move takes the 3.12 build or refuses', async () => {
    // restore 1 (the 3.11 state, with idx312) then undo: the redo's state has fastpkg again.
    await with312Kept();
    // Only the cp311 build left: no kept 3.12 wheel, no stored 3.12 copy.
    for (const f of keptFast()) if (f.includes('cp312')) unlinkSync(join(h, 'wheelhouse', f));
    rmSync(join(h, '.git', 'pyctl', 'packages', 'fastpkg==1.0.json'), { force: true });
    expect(keptFast()).toEqual([`fastpkg-1.0-${binaryTag('3.11')}.whl`]);
    const before = await state();
    const no = await run(['redo'], { PIP_FIND_LINKS: idx311 });
    expect(no.exitCode, no.stdout).toBe(1);
    expect(no.stderr).toMatch(/^error: cannot get fastpkg==1\.0 for CPython 3\.12\.\d+ \(kept wheel fastpkg-1\.0-cp311-cp311-\w+\.whl: built for CPython 3\.11/m);
    expect(await state()).toBe(before);
    const yes = await run(['redo'], { PIP_FIND_LINKS: idx312 });
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(soFiles(hsite('3.12'))).toEqual([`_speedups${extSuffix('3.12')}`]);
  });

  it('with a 3.12 build kept, clean --keep-baseline and bisect run use it', async () => {
    await with312Kept();
    const c = await run(['clean', '--keep-baseline']);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(soFiles(hsite('3.12'))).toEqual([`_speedups${extSuffix('3.12')}`]);
    rmSync(probeLog, { force: true });
    const b = await run(['bisect', 'run', '--good', '0', '--bad', '1', '--', ...probe()]);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/operation 1\b/);
    const seen = readFileSync(probeLog, 'utf8');
    expect(seen).toMatch(/cpython-312/);
    expect(seen).not.toMatch(/cpython-311/);
  });
});
