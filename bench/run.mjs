/**
 * pyctl's benchmark: every row compares a baseline A with B, run pairwise (A B A B ...), and
 * prints min/median/max of each, the ratio of medians (or the added milliseconds) and whether
 * the target holds. Hermetic: its own venvs, wheels, caches and homes in a temp dir, pip offline
 * (PIP_NO_INDEX, --find-links), no machine pip config. Writes bench/results.json.
 *
 *   npm run bench                 # everything (2-5 minutes on 2 cores, depending on load)
 *   BENCH_RUNS=3 npm run bench    # fewer pairs per row
 *   BENCH_KEEP=1 npm run bench    # keep the temp dir for a look afterwards
 *   BENCH_TMPDIR=~/bench npm run bench   # where the temp dir goes (default os.tmpdir())
 *   BENCH_ONLY=record,undo npm run bench   # only these groups: history status noop record restore undo venv noroot bisect size startup real
 *   BENCH_REAL_RUNS=2             # pairs per row of the real-package group (torch: ~1 GB installed per run)
 *   BENCH_REAL_ROWS=pandas        # only these parts of the real-package group (pandas, torch; default both)
 *   BENCH_DISK_WRITER=1           # the noroot rows beside a disk writer (dd of 512 MB with conv=fsync, in a loop)
 *
 * The `real` group uses this machine's own pip configuration (`pip config list`: its file://
 * indexes and find-links folders, nothing over the network) for real packages: pandas and the
 * torch CPU wheel. Rows skip with a message where those are missing.
 */
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, renameSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, ROOT, buildWheel, hermeticEnv, run, timed, sitePackages, siteMtimeNs, median, dirSize, wheelFileName } from './lib.mjs';
import { realPackageRows, startupRow } from './real.mjs';
import { generateHistory } from './gen-history.mjs';
import { buildSync } from 'esbuild';

const RUNS = Number(process.env.BENCH_RUNS || 5);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (group) => !ONLY || ONLY.has(group);
const started = Date.now();
// BENCH_TMPDIR: where the temp dir goes. Creating a file costs 0.02-0.6 ms on this VM depending
// on the directory (ext4 inode allocation; 180 creates took 3 ms under /root, 10-114 ms under
// /tmp, 76 ms under /work in the same hour), a cost pip and pyctl pay alike per file.
const tmpRoot = process.env.BENCH_TMPDIR || tmpdir();
const tmp = mkdtempSync(join(tmpRoot, 'pyctl-bench-'));
const env = hermeticEnv(tmp);
const log = (s) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${s}\n`);
const PY = run('python3', ['-c', 'import sys; print(sys.executable)'], { env }).stdout.trim();
const W = join(tmp, 'wheels');
const node = process.execPath;
const pyctl = (home, args, extra = {}) => [node, [CLI, ...args], { env: { ...env, PYCTL_HOME: home, ...extra } }];
const pip = (home, args, extra = {}) => [join(home, 'venv', 'bin', 'pip'), args, { env: { ...env, PIP_FIND_LINKS: W, ...extra } }];
const NOREC = { PYCTL_NO_RECORD: '1' };
const results = [];
const extra = {};

/** pip with recording off leaves the stamp stale; pyctl would see "drift" at its next start. */
function fixStamp(home) {
  writeFileSync(join(home, '.git', 'pyctl', 'stamp'), `${siteMtimeNs(join(home, 'venv'))}\n`);
}

/**
 * One row: for i in runs: A then B (each a function returning ms). `mode` 'ratio' (B/A of the
 * medians) or 'added' (B - A in ms).
 */
function row(name, a, b, { target, mode = 'ratio', runs = RUNS, aLabel, bLabel, note }) {
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    as.push(a(i));
    bs.push(b(i));
  }
  const ma = median(as);
  const mb = median(bs);
  // 'added': the median of the paired differences (B_i - A_i). Each pair runs back to back, so
  // it cancels the machine's drift, which here is as large as the budgets (pip alone ±150 ms).
  const value = mode === 'ratio' ? mb / ma : median(bs.map((b, i) => b - as[i]));
  const r = {
    row: name,
    a: { label: aLabel, min: Math.min(...as), median: ma, max: Math.max(...as), runs: as },
    b: { label: bLabel, min: Math.min(...bs), median: mb, max: Math.max(...bs), runs: bs },
    mode,
    value,
    target,
    pass: value <= target,
    ...(note ? { note } : {}),
  };
  results.push(r);
  log(
    `${name}: A ${ma.toFixed(0)} ms, B ${mb.toFixed(0)} ms -> ${mode === 'ratio' ? value.toFixed(3) : `${value >= 0 ? '+' : ''}${value.toFixed(0)} ms`} (target ${target}) ${r.pass ? 'PASS' : 'FAIL'}`,
  );
  return r;
}
const t = (spec) => () => timed(...spec).ms;

// ---------------------------------------------------------------- real packages, interpreter start
log(`temp dir ${tmp}; python ${PY}`);
const ctx = { tmp, env, PY, node, CLI, row, log, RUNS, results };
if (want('startup')) startupRow(ctx);
if (want('real')) realPackageRows(ctx, Number(process.env.BENCH_REAL_RUNS || 2));
// The groups below share 1,121 tiny wheels and homes of 10, 100 and 1,000 packages.
const SMALL = !ONLY || [...ONLY].some((g) => g !== 'real' && g !== 'startup');
if (!SMALL) finish();

// ---------------------------------------------------------------- wheels and homes
const base = Array.from({ length: 1000 }, (_, i) => `bench-pkg-${String(i).padStart(4, '0')}`);
for (const n of base) buildWheel(W, { name: n, version: '1.0' });
const group = Array.from({ length: 20 }, (_, i) => `group-pkg-${i}`);
for (const n of group) buildWheel(W, { name: n, version: '2.0' });
for (let i = 0; i < 40; i++) for (const s of ['a', 'b']) buildWheel(W, { name: `tiny-${s}-${i}`, version: '0.1' });
buildWheel(W, { name: 'solo', version: '1.0' });
log('built 1,121 wheels');

function makeHome(name, n) {
  const home = join(tmp, name);
  run(...pyctl(home, ['init', '--python', PY]));
  if (n) run(...pip(home, ['install', ...base.slice(0, n)]));
  return home;
}
const H10 = makeHome('home10', 10);
const H100 = makeHome('home100', 100);
log('homes with 10 and 100 packages ready (installed by pip, recorded by pyctl)');

/**
 * 1,000 packages: pip installing 1,000 wheels takes minutes here, so the bench writes what pip
 * would (module, METADATA, WHEEL, INSTALLER, RECORD) straight into site-packages, then lets
 * pyctl record it once (as an external change). pip freeze reads the same files either way.
 */
const H1000 = makeHome('home1000', 0);
{
  const site = sitePackages(join(H1000, 'venv'));
  for (const n of base) {
    const mod = n.replace(/-/g, '_');
    const di = join(site, `${mod}-1.0.dist-info`);
    mkdirSync(join(site, mod), { recursive: true });
    mkdirSync(di, { recursive: true });
    const body = `__version__ = "1.0"\n`;
    writeFileSync(join(site, mod, '__init__.py'), body);
    writeFileSync(join(di, 'METADATA'), `Metadata-Version: 2.1\nName: ${n}\nVersion: 1.0\nSummary: benchmark package\n\n`);
    writeFileSync(join(di, 'WHEEL'), 'Wheel-Version: 1.0\nGenerator: pyctl-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
    writeFileSync(join(di, 'INSTALLER'), 'pip\n');
    writeFileSync(join(di, 'RECORD'), `${mod}/__init__.py,,\n${mod}-1.0.dist-info/METADATA,,\n${mod}-1.0.dist-info/WHEEL,,\n${mod}-1.0.dist-info/INSTALLER,,\n${mod}-1.0.dist-info/RECORD,,\n`);
  }
  run(...pyctl(H1000, ['status']));
}
log('home with 1,000 packages ready');

// ---------------------------------------------------------------- 10,000-operation history
const baseFreeze = readFileSync(join(H100, 'freeze.txt'), 'utf8');
const gen = (name, ops) => {
  const home = join(tmp, name);
  const t0 = Date.now();
  generateHistory({
    home,
    ops,
    baseFreeze,
    venv: join(H100, 'venv'),
    config: readFileSync(join(H100, 'config.toml'), 'utf8'),
    gitignore: readFileSync(join(H100, '.gitignore'), 'utf8'),
  });
  log(`generated ${ops}-operation history in ${Date.now() - t0} ms`);
  return home;
};
const G10 = want('history') || want('size') ? gen('hist10', 10) : null;
const G10k = want('history') || want('size') ? gen('hist10000', 10000) : null;
if (want('history')) {
  const histRow = (what, args) => row(`${what}: 10,000 vs 10 operations`, t(pyctl(G10, args)), t(pyctl(G10k, args)), { target: 1.5, aLabel: '10 ops', bLabel: '10,000 ops', runs: RUNS + 2 });
  histRow('pyctl history --limit 20', ['history', '--limit', '20']);
  histRow('pyctl diff', ['diff']);
  histRow('pyctl status', ['status']);
  histRow('pyctl undo --dry-run', ['undo', '--dry-run']);
}

// ---------------------------------------------------------------- status vs pip freeze
if (want('status')) {
  row('pyctl status vs pip freeze, 100 packages', t(pip(H100, ['freeze'])), t(pyctl(H100, ['status'])), { target: 0.25, aLabel: 'pip freeze', bLabel: 'pyctl status', runs: RUNS + 4 });
  row('pyctl status vs pip freeze, 1,000 packages', t(pip(H1000, ['freeze'])), t(pyctl(H1000, ['status'])), { target: 0.25, aLabel: 'pip freeze', bLabel: 'pyctl status' });
}

// ---------------------------------------------------------------- reading site-packages (no cache)
// What every record and drift check pays when its scan cache is cold: pyctl's own freeze reader
// (src/venv/freeze.ts, bundled here alone) in a fresh node process against pip freeze.
if (want('status')) {
  const reader = join(tmp, 'read-installed.mjs');
  buildSync({ entryPoints: [join(ROOT, 'src/venv/freeze.ts')], bundle: true, platform: 'node', format: 'esm', outfile: reader, logLevel: 'error' });
  const read = [node, ['--input-type=module', '-e', `const { readInstalled } = await import(${JSON.stringify(reader)}); readInstalled(${JSON.stringify(join(H100, 'venv'))});`], { env }];
  row('reading 100 installed packages (no cache, node start included) vs pip freeze', t(pip(H100, ['freeze'])), t(read), {
    target: 0.25,
    aLabel: 'pip freeze',
    bLabel: 'readInstalled',
    runs: RUNS + 4,
  });
}

// ---------------------------------------------------------------- pip runs with and without recording
if (want('noop'))
  row('no-op pip install (already satisfied), recording on vs off', t(pip(H100, ['install', base[0]], NOREC)), t(pip(H100, ['install', base[0]])), {
    target: 1.1,
    aLabel: 'PYCTL_NO_RECORD=1',
    bLabel: 'recorded',
    runs: RUNS + 4,
  });

for (const [home, size] of want('record')
  ? [
      [H100, '100'],
      [H1000, '1,000'],
    ]
  : []) {
  const timesA = { install: [], uninstall: [] };
  const timesB = { install: [], uninstall: [] };
  const offset = size === '100' ? 0 : 20;
  // pip's own run varies by ±150 ms here, as much as the budget: more pairs for a steadier median.
  const runs = Math.min(RUNS + 4, 20);
  for (let i = 0; i < runs; i++) {
    const a = `tiny-a-${offset + i}`;
    const b = `tiny-b-${offset + i}`;
    timesA.install.push(timed(...pip(home, ['install', a], NOREC)).ms);
    timesA.uninstall.push(timed(...pip(home, ['uninstall', '-y', a], NOREC)).ms);
    fixStamp(home);
    timesB.install.push(timed(...pip(home, ['install', b])).ms);
    timesB.uninstall.push(timed(...pip(home, ['uninstall', '-y', b])).ms);
  }
  for (const op of ['install', 'uninstall']) {
    let k = 0;
    const target = size === '100' ? 200 : 300;
    row(
      `pip ${op} of one small wheel, ${size} packages: ms added by recording`,
      () => timesA[op][k],
      () => timesB[op][k++],
      {
        target,
        mode: 'added',
        runs,
        aLabel: 'PYCTL_NO_RECORD=1',
        bLabel: 'recorded',
      },
    );
  }
}

// ---------------------------------------------------------------- restore: 100 vs 10 packages
if (want('restore')) {
  for (const home of [H10, H100]) {
    run(...pyctl(home, ['snapshot', 'without-solo']));
    run(...pip(home, ['install', 'solo']));
    run(...pyctl(home, ['snapshot', 'with-solo']));
  }
  {
    let k = 0;
    const ta = [];
    const tb = [];
    for (let i = 0; i < RUNS; i++) {
      for (const snap of ['without-solo', 'with-solo']) {
        ta.push(timed(...pyctl(H10, ['restore', snap])).ms);
        tb.push(timed(...pyctl(H100, ['restore', snap])).ms);
      }
    }
    row(
      'pyctl restore of a snapshot one package away: 100 vs 10 packages',
      () => ta[k],
      () => tb[k++],
      { target: 1.5, runs: ta.length, aLabel: '10 packages', bLabel: '100 packages' },
    );
  }
}

// ---------------------------------------------------------------- undo of a 20-package install, and its redo
if (want('undo') || want('venv')) run(...pip(H100, ['install', ...group]));
if (want('undo')) {
  const A = { un: [], re: [] };
  const B = { un: [], re: [] };
  const wheels = group.map((n) => join(W, wheelFileName(n, '2.0')));
  for (let i = 0; i < RUNS; i++) {
    A.un.push(timed(...pip(H100, ['uninstall', '-y', ...group], NOREC)).ms);
    A.re.push(timed(...pip(H100, ['install', '--no-deps', '--no-index', '--find-links', W, ...wheels], NOREC)).ms);
    fixStamp(H100);
    B.un.push(timed(...pyctl(H100, ['undo'])).ms);
    B.re.push(timed(...pyctl(H100, ['undo'])).ms);
  }
  let k = 0;
  row(
    'pyctl undo of a 20-package install vs pip uninstall -y of them',
    () => A.un[k],
    () => B.un[k++],
    { target: 0.5, aLabel: 'pip uninstall -y', bLabel: 'pyctl undo' },
  );
  k = 0;
  row(
    'undoing that undo (20 back, offline) vs pip install --no-deps --find-links',
    () => A.re[k],
    () => B.re[k++],
    { target: 0.25, aLabel: 'pip install --no-deps', bLabel: 'pyctl undo' },
  );
}

// ---------------------------------------------------------------- init and clean vs python3 -m venv
if (want('venv')) {
  const venvRuns = Math.max(3, Math.ceil(RUNS / 2));
  // Nothing is deleted between timed runs: on this VM's ext4 (mounted with discard), creating
  // files right where ~1,500 were just deleted costs up to 1 ms each (measured 0.02 ms elsewhere),
  // which would bill one side for the other's cleanup. The venvs go after the rows.
  const plain = (tag) => (i) => timed(PY, ['-m', 'venv', join(tmp, `plain-venv-${tag}-${i}`)], { env }).ms;
  row('pyctl init vs python3 -m venv', plain('init'), (i) => timed(...pyctl(join(tmp, `init-home-${i}`), ['init', '--python', PY])).ms, {
    target: 0.25,
    runs: venvRuns,
    aLabel: 'python3 -m venv',
    bLabel: 'pyctl init',
  });
  row(
    'pyctl clean (120 packages) vs python3 -m venv',
    plain('clean'),
    () => {
      const ms = timed(...pyctl(H100, ['clean'])).ms;
      run(...pyctl(H100, ['undo'])); // put the packages back for the next run (not timed)
      // clean deletes the old venv in the background: let that finish outside anyone's timing.
      const trash = () => readdirSync(H100).some((n) => n.startsWith('venv.trash-'));
      for (let k = 0; k < 300 && trash(); k++) spawnSync('sleep', ['0.05']);
      return ms;
    },
    { target: 0.25, runs: venvRuns, aLabel: 'python3 -m venv', bLabel: 'pyctl clean' },
  );
}

// ---------------------------------------------------------------- no root: Debian's python3, no ensurepip
if (want('noroot')) {
  // BENCH_DISK_WRITER=1: a busy disk, reproducibly: another writer's dd (512 MB, conv=fsync, in a
  // loop) on the bench's own disk, in its own process group, stopped when the group ends.
  const writer = process.env.BENCH_DISK_WRITER ? startDiskWriter() : null;
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  extra.noroot = { diskWriter: !!writer, loadStart: load() };
  log(`no-root rows${writer ? ' beside a disk writer' : ''}; load average ${extra.noroot.loadStart}`);
  try {
    noRootRows();
  } finally {
    if (writer) stopDiskWriter(writer);
    extra.noroot.loadEnd = load();
    log(`no-root rows done; load average ${extra.noroot.loadEnd}`);
  }
}

function startDiskWriter() {
  const file = join(tmp, 'disk-writer');
  const child = spawn('sh', ['-c', `while :; do dd if=/dev/zero of='${file}' bs=1M count=512 conv=fsync 2>/dev/null; done`], { detached: true, stdio: 'ignore' });
  const w = { child, file };
  // Never left running: stopped on the way out, Ctrl-C included.
  process.once('exit', () => stopDiskWriter(w));
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  return w;
}

function stopDiskWriter({ child, file }) {
  try {
    process.kill(-child.pid, 'SIGKILL'); // the loop and its dd (its own process group)
  } catch {
    // already gone
  }
  rmSync(file, { force: true });
}

function noRootRows() {
  const SYS = '/usr/bin/python3';
  const ok = (py, mods) => spawnSync(py, ['-c', `import ${mods}`], { env }).status === 0;
  if (!existsSync(SYS) || !ok(SYS, 'venv, ensurepip')) {
    log(`skipping the no-root rows: ${SYS} is missing or cannot make venvs here`);
  } else {
    const venvRuns = Math.max(3, Math.ceil(RUNS / 2));
    const plain = (tag) => (i) => timed(SYS, ['-m', 'venv', join(tmp, `sys-venv-${tag}-${i}`)], { env }).ms;
    row("pyctl init vs python3 -m venv, Debian's /usr/bin/python3", plain('init'), (i) => timed(...pyctl(join(tmp, `sys-home-${i}`), ['init', '--python', SYS])).ms, {
      target: 0.15,
      runs: venvRuns,
      aLabel: 'python3 -m venv',
      bLabel: 'pyctl init',
    });
    // The same Python with ensurepip hidden (Debian/Ubuntu without python3-venv), pip found in
    // a local PEP 503 index (file://, sha256 checked) the first time and then in the wheelhouse.
    const shim = join(tmp, 'noensurepip');
    mkdirSync(shim, { recursive: true });
    writeFileSync(join(shim, 'ensurepip.py'), 'raise ImportError("hidden by the bench")\n');
    const noEns = join(tmp, 'python3-noensurepip');
    writeFileSync(join(noEns), `#!/bin/sh\nPYTHONPATH='${shim}' exec '${SYS}' "$@"\n`, { mode: 0o755 });
    const pipWheel = spawnSync(
      SYS,
      ['-c', 'import ensurepip, os, glob; d = os.path.dirname(ensurepip.__file__); print((glob.glob("/usr/share/python-wheels/pip-*.whl") + glob.glob(d + "/_bundled/pip-*.whl"))[0])'],
      { env, encoding: 'utf8' },
    ).stdout.trim();
    const idx = join(tmp, 'index');
    mkdirSync(join(idx, 'simple', 'pip'), { recursive: true });
    const name = pipWheel.slice(pipWheel.lastIndexOf('/') + 1);
    writeFileSync(join(idx, name), readFileSync(pipWheel));
    const sha = createHash('sha256').update(readFileSync(pipWheel)).digest('hex');
    writeFileSync(join(idx, 'simple', 'pip', 'index.html'), `<a href="../../${name}#sha256=${sha}">${name}</a>\n`);
    // The bench's pip runs offline (PIP_NO_INDEX); these rows are about the index, so drop it here (undefined: not passed).
    const noSrc = { PYCTL_DISTRO_WHEELS: join(tmp, 'no-distro-wheels'), PIP_INDEX_URL: `file://${idx}/simple/`, PIP_NO_INDEX: undefined };
    row('pyctl init without ensurepip, pip from the index (first time) vs python3 -m venv', plain('idx'), (i) => timed(...pyctl(join(tmp, `idx-home-${i}`), ['init', '--python', noEns], noSrc)).ms, {
      target: 0.25,
      runs: venvRuns,
      aLabel: 'python3 -m venv',
      bLabel: 'pyctl init (index)',
    });
    // Once kept: a home whose wheelhouse has pip (as after a first init or a clean), no index.
    row(
      'pyctl init without ensurepip, pip kept in the wheelhouse vs python3 -m venv',
      plain('kept'),
      (i) => {
        const home = join(tmp, `kept-home-${i}`);
        mkdirSync(join(home, 'wheelhouse'), { recursive: true });
        writeFileSync(join(home, 'wheelhouse', name), readFileSync(pipWheel));
        return timed(...pyctl(home, ['init', '--python', noEns], { ...noSrc, PIP_INDEX_URL: 'http://127.0.0.1:9/unreachable/' })).ms;
      },
      { target: 0.15, runs: venvRuns, aLabel: 'python3 -m venv', bLabel: 'pyctl init (wheelhouse)' },
    );
  }
}

// ---------------------------------------------------------------- bisect over 64 operations of a 20-package venv
if (want('bisect')) {
  // 20 packages; operation k (1..64) upgrades bis-(k % 20) to 1.k, through `pyctl restore --file`
  // (wheels kept in the wheelhouse, as pip runs would have left them). The test fails from
  // operation 40 on: when some bis-* is at 1.40 or later.
  const names = Array.from({ length: 20 }, (_, i) => `bis-${String(i).padStart(2, '0')}`);
  const home = join(tmp, 'bisect-home');
  run(...pyctl(home, ['init', '--python', PY]));
  const wh = join(home, 'wheelhouse');
  const versions = Object.fromEntries(names.map((n) => [n, '1.0']));
  for (const n of names) buildWheel(wh, { name: n, version: '1.0' });
  const pins = () => join(tmp, 'bisect-pins.txt');
  const writePins = () => writeFileSync(pins(), names.map((n) => `${n}==${versions[n]}\n`).join(''));
  writePins();
  run(...pyctl(home, ['restore', '--file', pins()]));
  for (let k = 1; k <= 64; k++) {
    const n = names[k % 20];
    versions[n] = `1.${k}`;
    buildWheel(wh, { name: n, version: versions[n] });
    writePins();
    run(...pyctl(home, ['restore', '--file', pins()]));
  }
  const ops = JSON.parse(readFileSync(join(home, '.git', 'pyctl', 'last.json'), 'utf8')).op;
  const first = ops - 64; // the state before the first of the 64
  const check = join(tmp, 'bisect-check.py');
  writeFileSync(
    check,
    `import sys\nfrom importlib import metadata as m\nv = [int(d.version.split('.')[1]) for d in m.distributions() if (d.metadata['Name'] or '').startswith('bis-')]\nsys.exit(1 if max(v) >= 40 else 0)\n`,
  );
  log(`bisect home: ${ops} operations, 20 packages`);
  const builds = [];
  const makes = [];
  let steps = [];
  let stepsCount = 0;
  for (let i = 0; i < Math.max(2, Math.ceil(RUNS / 2)); i++) {
    const r = run(...pyctl(home, ['--verbose', '--json', 'bisect', 'run', '--good', String(first), '--', 'python', check]));
    const j = JSON.parse(r.stdout);
    if (j.operation?.op !== first + 40) throw new Error(`bisect found ${j.operation?.op}, not ${first + 40}: ${r.stderr}`);
    steps = j.steps.map((x) => x.op);
    stepsCount = steps.length;
    const ms = [...r.stderr.matchAll(/^pyctl: built .* in (\d+) ms$/gm)].map((m) => Number(m[1]));
    makes.push(Number(/made the scratch venv in (\d+) ms/.exec(r.stderr)[1]) + ms[0]);
    builds.push(...ms.slice(1));
  }
  results.push({
    row: 'bisect over 64 operations: state builds (count)',
    a: { label: 'log2(64)+2', median: 8 },
    b: { label: 'builds', median: stepsCount },
    mode: 'count',
    value: stepsCount,
    target: 8,
    pass: stepsCount <= 8,
  });
  log(`bisect: ${stepsCount} state builds (${steps.join(' ')}); target <= 8`);
  // The same transitions as pyctl restore, in the user's venv (recorded; put back after).
  const restores = [];
  const fresh = [];
  for (let i = 0; i < Math.max(2, Math.ceil(RUNS / 2)); i++) {
    for (let k = 1; k < steps.length; k++) {
      run(...pyctl(home, ['restore', String(steps[k - 1])]));
      restores.push(timed(...pyctl(home, ['restore', String(steps[k])])).ms);
    }
    // A fresh venv plus the restore that fills it: python3 -m venv, then restore from empty to the bad state.
    const v = timed(PY, ['-m', 'venv', join(tmp, `bisect-plain-venv-${i}`)], { env }).ms;
    run(...pyctl(home, ['restore', String(first)]));
    fresh.push(v + timed(...pyctl(home, ['restore', String(ops)])).ms);
  }
  let k = 0;
  row(
    'bisect: one state build in the scratch venv vs pyctl restore between the same states',
    () => restores[k],
    () => builds[k++],
    { target: 1.5, runs: Math.min(restores.length, builds.length), aLabel: 'pyctl restore', bLabel: 'bisect build' },
  );
  k = 0;
  row(
    'bisect: scratch venv for a state vs python3 -m venv + restore',
    () => fresh[k],
    () => makes[k++],
    { target: 0.5, runs: Math.min(fresh.length, makes.length), aLabel: 'venv + restore', bLabel: 'scratch venv' },
  );
}

// ---------------------------------------------------------------- state repo size
const gitDirSize = (home) => dirSize(join(home, '.git', 'objects'));
if (SMALL) {
  // Let a background repack started by the last records finish.
  const lock = join(H100, '.git', 'pyctl', 'lock');
  for (let i = 0; i < 100 && existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
  const s = gitDirSize(H100);
  const ops = JSON.parse(readFileSync(join(H100, '.git', 'pyctl', 'last.json'), 'utf8')).op;
  extra.home100 = { ops, objectsBytes: s.bytes, objectFiles: s.files };
  log(`home100 after the bench: ${ops} operations, .git/objects ${(s.bytes / 1024).toFixed(0)} KB in ${s.files} files`);
}
if (want('size')) {
  // The 10,000-operation repo as isomorphic-git alone would leave it (every object loose), then
  // after pyctl's maintenance (what a record starts in the background when loose objects pile up).
  const objects = join(G10k, '.git', 'objects');
  const packDir = join(objects, 'pack');
  const aside = join(tmp, 'packs-aside');
  mkdirSync(aside);
  for (const f of readdirSync(packDir)) renameSync(join(packDir, f), join(aside, f));
  for (const f of readdirSync(aside).filter((f) => f.endsWith('.pack'))) {
    run('git', ['-C', G10k, 'unpack-objects', '-q'], { input: readFileSync(join(aside, f)), env });
  }
  const loose = gitDirSize(G10k);
  const { ms } = timed(...pyctl(G10k, ['_maintain', '--force']));
  const packed = gitDirSize(G10k);
  extra.hist10000 = { looseBytes: loose.bytes, looseFiles: loose.files, packedBytes: packed.bytes, packedFiles: packed.files, maintainMs: ms };
  const r = {
    row: 'state repo size at 10,000 operations (MB), after maintenance',
    a: { label: 'all loose', median: loose.bytes / 2 ** 20 },
    b: { label: 'packed', median: packed.bytes / 2 ** 20 },
    mode: 'size',
    value: packed.bytes / 2 ** 20,
    target: 10,
    pass: packed.bytes / 2 ** 20 < 10,
  };
  results.push(r);
  log(`10,000 ops: loose ${(loose.bytes / 2 ** 20).toFixed(1)} MB (${loose.files} files); after _maintain (${ms.toFixed(0)} ms) ${(packed.bytes / 2 ** 20).toFixed(2)} MB`);
}

finish();

// ---------------------------------------------------------------- report
function finish() {
  const f = (x) => (x === undefined ? '' : x.toFixed(0));
  const lines = [];
  lines.push(`| row | A | A min / median / max (ms) | B | B min / median / max (ms) | result | target | |`);
  lines.push(`|---|---|---|---|---|---|---|---|`);
  for (const r of results) {
    if (r.mode === 'count') {
      lines.push(`| ${r.row} | ${r.a.label} | ${r.a.median} | ${r.b.label} | ${r.b.median} | ${r.value} | <= ${r.target} | ${r.pass ? 'pass' : 'FAIL'} |`);
      continue;
    }
    if (r.mode === 'size') {
      lines.push(`| ${r.row} | ${r.a.label} | ${r.a.median.toFixed(1)} MB | ${r.b.label} | ${r.b.median.toFixed(2)} MB | ${r.value.toFixed(2)} MB | < ${r.target} MB | ${r.pass ? 'pass' : 'FAIL'} |`);
      continue;
    }
    if (r.mode === 'disk') {
      lines.push(`| ${r.row} | ${r.a.label} | ${r.a.median.toFixed(0)} MB | ${r.b.label} | ${r.b.median.toFixed(0)} MB | ${r.value.toFixed(2)}x | <= ${r.target}x | ${r.pass ? 'pass' : 'FAIL'} |`);
      continue;
    }
    const res = r.mode === 'ratio' ? `${r.value.toFixed(2)}x` : `${r.value >= 0 ? '+' : ''}${r.value.toFixed(0)} ms`;
    const tg = r.mode === 'ratio' ? `<= ${r.target}x` : `<= +${r.target} ms`;
    lines.push(
      `| ${r.row} | ${r.a.label} | ${f(r.a.min)} / ${f(r.a.median)} / ${f(r.a.max)} | ${r.b.label} | ${f(r.b.min)} / ${f(r.b.median)} / ${f(r.b.max)} | ${res} | ${tg} | ${r.pass ? 'pass' : 'FAIL'} |`,
    );
  }
  if (extra.noroot) {
    const n = extra.noroot;
    lines.push('', `no-root rows: ${n.diskWriter ? 'beside a disk writer (BENCH_DISK_WRITER)' : 'no disk writer'}; load average (1/5/15 min) ${n.loadStart} at the start, ${n.loadEnd} at the end`);
  }
  const table = lines.join('\n');
  const out = process.env.BENCH_OUT || join(ROOT, 'bench', 'results.json');
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, python: PY, runsPerRow: RUNS, totalSeconds: (Date.now() - started) / 1000, rows: results, extra }, null, 2) + '\n',
  );
  process.stdout.write(`\n${table}\n\nwritten: ${out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)\n`);
  if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`kept ${tmp}\n`);
  process.exit(0);
}
