import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freezeText, readFreeze, readInstalled, sitePackagesMtimeNs } from '../src/venv/freeze.js';
import { normalizeVersion } from '../src/packaging/pep440.js';
import { parseFreeze } from '../src/packaging/parse-freeze.js';
import { sitePackagesDir, venvPythonVersion } from '../src/venv/syspath.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { ScanCache } from '../src/venv/scan-cache.js';
import { createVenv } from '../src/venv/create.js';
import { defaultSeedCache } from '../src/venv/seed-template.js';
import { buildWheel, buildWheels, wheelFileName, type WheelSpec } from './helpers/wheels.js';

describe('normalizeVersion (packaging 21.3 str(Version))', () => {
  // Expected values printed by pip 23.2.1's vendored packaging.
  const table: Array<[string, string | null]> = [
    ['1.0', '1.0'],
    ['01.02.003', '1.2.3'],
    ['v1.0', '1.0'],
    ['V2', '2'],
    ['1.0-RC1', '1.0rc1'],
    ['1.0.0-rc.2', '1.0.0rc2'],
    ['1.0alpha', '1.0a0'],
    ['1.0beta2', '1.0b2'],
    ['1.0c3', '1.0rc3'],
    ['1.0pre4', '1.0rc4'],
    ['1.0preview', '1.0rc0'],
    ['1.0-post', '1.0.post0'],
    ['1.0post1', '1.0.post1'],
    ['1.0-1', '1.0.post1'],
    ['1.0.r5', '1.0.post5'],
    ['1.0rev', '1.0.post0'],
    ['1.0-dev', '1.0.dev0'],
    ['1.0.dev02', '1.0.dev2'],
    ['1!2.0', '1!2.0'],
    ['0!1.0', '1.0'],
    ['1.0+Local.007', '1.0+local.7'],
    ['1.0+ab-cd_EF', '1.0+ab.cd.ef'],
    ['  1.0  ', '1.0'],
    ['1.0a1.post2.dev3', '1.0a1.post2.dev3'],
    ['2013.10.1.dev0+local.007', '2013.10.1.dev0+local.7'],
    ['not a version', null],
    ['1.0+', null],
    ['1.0-', null],
    ['1..0', null],
    ['1.0_a_1', '1.0a1'],
    ['1.0+abc.', null],
    ['1.0-r', '1.0.post0'],
    ['1.0.DEV', '1.0.dev0'],
    ['1.0_post_2', '1.0.post2'],
    ['1.0\n', '1.0'],
  ];
  it.each(table)('%j -> %j', (raw, want) => expect(normalizeVersion(raw)).toBe(want));
});

describe('parseFreeze', () => {
  const table: Array<[string, Array<[string, string, string, string]>]> = [
    ['', []],
    ['Foo_Bar==1.0\n', [['foo-bar', 'Foo_Bar', '1.0', 'Foo_Bar==1.0']]],
    ['odd===not a version\n', [['odd', 'odd', 'not', 'odd===not a version']]],
    ['X @ file:///tmp/x-1.0-py3-none-any.whl#sha256=ab\n', [['x', 'X', '', 'X @ file:///tmp/x-1.0-py3-none-any.whl#sha256=ab']]],
    [
      '# Editable install with no version control (My.Proj==0.1)\n-e /src/proj\nzeta==2\n',
      [
        ['my-proj', 'My.Proj', '0.1', '# Editable install with no version control (My.Proj==0.1)\n-e /src/proj'],
        ['zeta', 'zeta', '2', 'zeta==2'],
      ],
    ],
    ['-e git+https://h/r.git@abc123#egg=my_pkg\n', [['my-pkg', 'my_pkg', '', '-e git+https://h/r.git@abc123#egg=my_pkg']]],
    ['# a comment\n\n--index-url https://x\na==1\r\n', [['a', 'a', '1', 'a==1']]],
  ];
  it.each(table)('%j', (text, want) => {
    const got = [...parseFreeze(text)].map(([k, e]) => [k, e.name, e.version, e.line]);
    expect(got).toEqual(want);
  });
});

describe('readFreeze against a real pip', () => {
  let root: string;
  let wheels: string;
  let venv: string;
  let env: Record<string, string>;
  const py = () => join(venv, 'bin', 'python');
  const pip = (...args: string[]) => execFileSync(py(), ['-m', 'pip', ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const expectSameAsPip = () => {
    const want = pip('freeze', '--all');
    expect(readFreeze(venv)).toBe(want);
    return want;
  };
  const site = () => sitePackagesDir(venv);
  const write = (path: string, text: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  };

  /** ~100 packages, pip-installed once per file by the first test that needs them. */
  let manyInstalled = false;
  const installMany = () => {
    if (manyInstalled) return;
    const many = join(root, 'many');
    const specs: WheelSpec[] = Array.from({ length: 100 }, (_, i) => ({
      name: `pkg_${String(i).padStart(3, '0')}`,
      version: `1.${i}.0`,
      requires: i % 10 ? [`pkg_${String(i - (i % 10)).padStart(3, '0')}`] : [],
    }));
    buildWheels(many, specs);
    pip('install', '--find-links', many, ...specs.map((s) => join(many, wheelFileName(s.name, s.version))));
    manyInstalled = true;
  };

  beforeAll(async () => {
    root = tempDir('pyctl-freeze-');
    wheels = join(root, 'wheels');
    buildWheels(wheels, [
      { name: 'alpha', version: '1.0', requires: ['Beta_Pkg>=2'] },
      { name: 'Beta_Pkg', version: '2.0', requires: ['gamma.lib'] },
      { name: 'gamma.lib', version: '0.3' },
      { name: 'Mixed.Case_Name', version: '1.0.0' },
    ]);
    env = hermeticEnv({ PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, PIP_NO_CACHE_DIR: '1' });
    venv = join(root, 'venv');
    // A venv with pip as `python3 -m venv` makes it, its pip and setuptools linked from the per-user
    // template as `pyctl init` links them (~0.3 s of CPU; ensurepip costs ~5 s). No test here
    // writes pip's files in place.
    const cache = join(env.XDG_CACHE_HOME, 'pyctl');
    await createVenv(venv, 'python3', { env, pycCache: join(cache, 'pyc'), seedCache: defaultSeedCache(env) });
  });
  afterAll(() => {
    if (root) removeDir(root);
  });

  it('reads pyvenv.cfg', () => {
    expect(venvPythonVersion(venv)).toMatch(/^3\.\d+\.\d+$/);
    expect(site()).toBe(join(venv, 'lib', `python${venvPythonVersion(venv).split('.').slice(0, 2).join('.')}`, 'site-packages'));
  });

  it('matches a fresh venv', () => {
    expect(expectSameAsPip()).toMatch(/^pip==/m);
  });

  it('matches plain installs with dependencies', () => {
    const before = sitePackagesMtimeNs(venv);
    pip('install', 'alpha', 'Mixed.Case_Name');
    const text = expectSameAsPip();
    expect(text).toContain('Beta_Pkg==2.0\n');
    expect(sitePackagesMtimeNs(venv)).not.toBe(before);
    const byKey = new Map(readInstalled(venv).map((i) => [i.key, i]));
    expect(byKey.get('alpha')).toMatchObject({ name: 'alpha', version: '1.0', format: 'dist-info', requested: true, installer: 'pip', editable: false });
    expect(byKey.get('beta-pkg')?.requested).toBe(false);
    expect(byKey.get('mixed-case-name')?.line).toBe('Mixed.Case_Name==1.0.0');
  });

  it('matches direct-URL installs (path and file:// URL)', () => {
    const other = join(root, 'other');
    const d = buildWheel(other, { name: 'delta', version: '1.0' });
    const e = buildWheel(other, { name: 'Epsilon', version: '2.0rc1' });
    // Both in one pip run: each is its own requirement, written as given (a path, a file:// URL).
    pip('install', d, pathToFileURL(e).href);
    const text = expectSameAsPip();
    expect(text).toMatch(/^delta @ file:\/\/\/.*delta-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}$/m);
    expect(text).toContain(`Epsilon @ ${pathToFileURL(e).href}`);
    const delta = readInstalled(venv).find((i) => i.key === 'delta');
    expect(delta?.directUrl?.archive_info?.hashes?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches egg-info directories and single-file egg-info', () => {
    write(join(site(), 'Foo-1.0-py3.11.egg-info', 'PKG-INFO'), 'Metadata-Version: 1.0\nName: Foo\nVersion: 1.0\n');
    write(join(site(), 'Bar_Single-2.0-py3.11.egg-info'), 'Metadata-Version: 1.1\nName: Bar-Single\nVersion: 2.00\nSummary: x\n');
    const text = expectSameAsPip();
    expect(text).toContain('Foo==1.0\n');
    expect(text).toContain('Bar-Single==2.0\n');
    const foo = readInstalled(venv).find((i) => i.key === 'foo');
    expect(foo).toMatchObject({ format: 'egg-info', distPath: join(site(), 'Foo-1.0-py3.11.egg-info') });
  });

  it('matches odd metadata: invalid and unnormalized versions, duplicates, leftovers, CRLF, no Name', () => {
    const dist = (dir: string, meta: string) => write(join(site(), dir, 'METADATA'), meta);
    dist('weird_ver-1.0.dist-info', 'Metadata-Version: 2.1\nName: Weird.Ver\nVersion: V1.0-ALPHA1+Local.007\n\nVersion: 9\n');
    dist('legacy_ver-1.dist-info', 'Metadata-Version: 2.1\nName: legacy_ver\nVersion: not a version\n');
    dist('crlf_pkg-3.dist-info', 'Metadata-Version: 2.1\r\nname:   CRLF_pkg\r\nVERSION: 3.0.0\r\n\r\nbody\r\n');
    dist('dup-1.0.dist-info', 'Metadata-Version: 2.1\nName: dup\nVersion: 1.0\n');
    dist('DUP-2.0.dist-info', 'Metadata-Version: 2.1\nName: DUP\nVersion: 2.0\n');
    dist('~eftover-1.0.dist-info', 'Metadata-Version: 2.1\nName: leftover\nVersion: 1.0\n');
    dist('noname-1.0.dist-info', 'Metadata-Version: 2.1\nVersion: 1.0\n');
    dist('python-1.0.dist-info', 'Metadata-Version: 2.1\nName: python\nVersion: 1.0\n');
    const text = expectSameAsPip();
    expect(text).toContain('Weird.Ver==1.0a1+local.7\n');
    expect(text).toContain('legacy_ver===not a version\n');
    expect(text).not.toMatch(/leftover|noname|^python/m);
  });

  it('matches distributions on .pth path lines', () => {
    const extra = join(root, 'extra-path');
    write(join(extra, 'zeta_pkg-0.5.dist-info', 'METADATA'), 'Metadata-Version: 2.1\nName: zeta-pkg\nVersion: 0.5\n');
    write(join(site(), 'extra.pth'), `# comment\nimport os\n${extra}\n/does/not/exist\n`);
    expect(expectSameAsPip()).toContain('zeta-pkg==0.5\n');
  });

  it('matches PEP 660 editable and local directory installs', () => {
    const project = (dir: string, name: string, mod: string) => {
      write(join(dir, 'pyproject.toml'), `[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n`);
      write(join(dir, `${mod}.py`), 'X = 1\n');
      write(join(dir, 'backend.py'), backendPy(name, '0.1', mod));
    };
    const ed = join(root, 'src', 'Edit Proj');
    project(ed, 'Edit_Proj', 'edit_proj');
    const plain = join(root, 'src', 'plain');
    project(plain, 'plain-dir', 'plain_dir');
    // Both in one pip run (-e applies to the path after it only).
    pip('install', '--no-build-isolation', '-e', ed, plain);
    const text = expectSameAsPip();
    expect(text).toContain(`# Editable install with no version control (Edit_Proj==0.1)\n-e ${ed}\n`);
    expect(text).toContain(`plain-dir @ ${pathToFileURL(plain).href}\n`);
    const item = readInstalled(venv).find((i) => i.key === 'edit-proj');
    expect(item).toMatchObject({ editable: true, format: 'dist-info', directUrl: { dir_info: { editable: true } } });
  });

  it('matches a legacy setup.py develop editable (egg-link)', () => {
    const dir = join(root, 'src', 'legacy');
    write(join(dir, 'setup.py'), 'from setuptools import setup\nsetup(name="Legacy.Proj", version="0.2", py_modules=["legacy_proj"])\n');
    write(join(dir, 'legacy_proj.py'), 'X = 1\n');
    // What pip's legacy editable path runs (pip itself refuses --no-use-pep517 without `wheel`).
    execFileSync(py(), ['setup.py', 'develop', '--no-deps'], { env, cwd: dir, stdio: 'ignore' });
    const text = expectSameAsPip();
    expect(text).toContain(`-e ${dir}\n`);
    const item = readInstalled(venv).find((i) => i.key === 'legacy-proj');
    expect(item).toMatchObject({ editable: true, format: 'egg-link' });
    expect(item?.distPath).toMatch(/\.egg-link$/);
  });

  it('matches after uninstalls, and site-packages mtime moves', () => {
    // What it uninstalls, installed here unless an earlier test left both there (no pip run then).
    const there = new Set(readInstalled(venv).map((i) => i.key));
    if (!there.has('gamma-lib') || !there.has('delta')) pip('install', '--no-deps', 'gamma.lib', buildWheel(join(root, 'other'), { name: 'delta', version: '1.0' }));
    expect(readInstalled(venv).map((i) => i.key)).toEqual(expect.arrayContaining(['gamma-lib', 'delta']));
    const before = sitePackagesMtimeNs(venv);
    pip('uninstall', '-y', 'gamma.lib', 'delta');
    expect(sitePackagesMtimeNs(venv)).not.toBe(before);
    expect(expectSameAsPip()).not.toMatch(/^(gamma|delta)/m);
  });

  it('reads ~100 packages installed by pip as pip freeze lists them (its speed is a bench row)', () => {
    installMany();
    rmSync(join(site(), 'extra.pth'), { force: true });
    const text = expectSameAsPip();
    expect(text.split('\n').length).toBeGreaterThan(100);
  });

  it('reads the same through a ScanCache, cold and warm, and after pip changes the venv', () => {
    installMany();
    const file = join(root, 'scan-cache.json');
    const cold = new ScanCache(file);
    expect(readInstalled(venv, { cache: cold })).toEqual(readInstalled(venv));
    cold.save();
    const warm = new ScanCache(file);
    expect(readInstalled(venv, { cache: warm })).toEqual(readInstalled(venv));
    warm.save();
    // Uninstall one, reinstall another from a direct URL (a new file in a new dist-info directory).
    pip('uninstall', '-y', 'pkg_001');
    const w = join(root, 'many', wheelFileName('pkg_002', '1.2.0'));
    pip('install', '--force-reinstall', '--no-deps', w);
    const after = new ScanCache(file);
    const items = readInstalled(venv, { cache: after });
    expect(items).toEqual(readInstalled(venv));
    expect(items.find((i) => i.key === 'pkg-002')?.line).toMatch(/ @ file:/);
    expect(items.find((i) => i.key === 'pkg-001')).toBeUndefined();
    expect(expectSameAsPip()).toBe(freezeText(items));
  });

  it('keeps a ScanCache that was opened and saved without a scan (recording a known freeze)', () => {
    const file = join(root, 'scan-cache-kept.json');
    const first = new ScanCache(file);
    readInstalled(venv, { cache: first });
    first.save();
    const entries = Object.keys(JSON.parse(readFileSync(file, 'utf8')).dists).length;
    expect(entries).toBeGreaterThan(1);
    new ScanCache(file).save(); // what recordState does when the caller already knows the freeze
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).dists)).toHaveLength(entries);
  });

  it('reads a freeze it wrote back into the same entries', () => {
    const items = readInstalled(venv);
    const parsed = parseFreeze(readFreeze(venv));
    expect([...parsed.keys()]).toEqual(items.map((i) => i.key));
    for (const i of items) expect(parsed.get(i.key)?.line).toBe(i.line);
    expect(readFileSync(join(venv, 'pyvenv.cfg'), 'utf8')).toContain('version');
  });
});

/** A tiny in-tree PEP 517/660 build backend: no setuptools or wheel needed, nothing downloaded. */
function backendPy(name: string, version: string, mod: string): string {
  return `import base64, hashlib, os, zipfile
NAME, VERSION, MOD = ${JSON.stringify(name)}, ${JSON.stringify(version)}, ${JSON.stringify(mod)}
HERE = os.path.dirname(os.path.abspath(__file__))

def _build(wheel_directory, files):
    dist = NAME.replace("-", "_") + "-" + VERSION
    info = dist + ".dist-info/"
    files[info + "METADATA"] = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, VERSION)
    files[info + "WHEEL"] = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    rec = []
    for p, c in files.items():
        b = c.encode()
        h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
        rec.append("%s,sha256=%s,%d" % (p, h, len(b)))
    rec.append(info + "RECORD,,")
    files[info + "RECORD"] = "\\n".join(rec) + "\\n"
    fn = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, fn), "w") as z:
        for p, c in files.items():
            z.writestr(p, c)
    return fn

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(HERE, MOD + ".py")) as f:
        return _build(wheel_directory, {MOD + ".py": f.read()})

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, {"__editable__." + NAME + ".pth": HERE + "\\n"})
`;
}
