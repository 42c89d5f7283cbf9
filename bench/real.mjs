/**
 * Bench rows with real packages and the interpreter's start-up (issue 16). Real packages come
 * from this machine's own pip settings (`pip config list`): its file:// indexes and find-links
 * folders only, never the network. pandas from the index; torch from its CPU wheel in a
 * find-links folder (~190 MB, ~1 GB installed). Every pair runs in fresh homes, A with
 * recording off (plain pip), B recorded, back to back, both sides treated alike (`fair` below).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, timed } from './lib.mjs';

const NOREC = { PYCTL_NO_RECORD: '1' };

/** File indexes and find-links folders from the machine's pip configuration (not the bench's hermetic one). */
function localPipSources(PY) {
  const r = spawnSync(PY, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  const indexes = [];
  const links = [];
  const local = (u) => (u.startsWith('file:') ? fileURLToPath(u) : u.startsWith('/') ? u : null);
  for (const line of (r.stdout || '').split('\n')) {
    const m = /^(\S+?)='(.*)'$/.exec(line.trim());
    if (!m) continue;
    const values = m[2].split(/\s+/).filter(Boolean);
    if (/index-url$/.test(m[1])) for (const v of values) if (v.startsWith('file:') && existsSync(fileURLToPath(v))) indexes.push(v);
    if (/find-links$/.test(m[1])) for (const v of values) if (local(v) && existsSync(local(v))) links.push(local(v));
  }
  for (const v of (process.env.PIP_FIND_LINKS || '').split(/\s+/)) if (v && local(v) && existsSync(local(v))) links.push(local(v));
  return { indexes: [...new Set(indexes)], links: [...new Set(links)] };
}

const waitForTrash = (home) => {
  const busy = () => readdirSync(home).some((n) => n.startsWith('venv.trash-'));
  for (let k = 0; k < 600 && busy(); k++) spawnSync('sleep', ['0.1']);
};

/**
 * Both sides of a pair measured alike. Each timed run starts after an untimed `sync`: the runs
 * before it (an install writes ~150-1,000 MB, a home deleted, on a disk mounted with discard)
 * leave dirty pages and discards that the next run's fsyncs (pip's own RECORD writes, the
 * record's commit) would otherwise pay for, always the same side when A always ran first. And
 * the order alternates (A B, then B A: ABBA over two pairs), so neither side always runs second.
 */
function fair(i, a, b) {
  const one = (f) => {
    spawnSync('sync');
    return f();
  };
  if (i % 2 === 0) return [one(a), one(b)];
  const rb = one(b);
  return [one(a), rb];
}

const duMB = (path) => Number(run('du', ['-sk', path]).stdout.split('\t')[0]) / 1024;

/** `python -c 0` in the user venv (with pyctl's .pth hook) against a plain venv of the same Python. */
export function startupRow({ tmp, env, PY, node, CLI, row }) {
  const home = join(tmp, 'startup-home');
  run(node, [CLI, 'init', '--python', PY], { env: { ...env, PYCTL_HOME: home } });
  const plain = join(tmp, 'startup-plain');
  run(PY, ['-m', 'venv', plain], { env });
  const py = (venv) => () => timed(join(venv, 'bin', 'python'), ['-c', '0'], { env }).ms;
  // Each start is ~10-20 ms: many pairs for a steady median.
  row('python -c 0: the user venv (pip hook installed) vs a plain venv', py(plain), py(join(home, 'venv')), { target: 1.03, runs: 40, aLabel: 'plain venv', bLabel: 'user venv' });
}

export function realPackageRows({ tmp, env, PY, node, CLI, row, log, results }, runs) {
  const src = localPipSources(PY);
  if (!src.indexes.length && !src.links.length) {
    log('skipping the real-package rows: pip config list names no local (file://) index or find-links folder here');
    return;
  }
  const realEnv = { ...env, PIP_INDEX_URL: src.indexes[0], PIP_EXTRA_INDEX_URL: src.indexes.slice(1).join(' '), PIP_FIND_LINKS: src.links.join(' ') };
  if (src.indexes.length) delete realEnv.PIP_NO_INDEX;
  else delete realEnv.PIP_INDEX_URL;
  const pyctl = (home, args) => [node, [CLI, ...args], { env: { ...realEnv, PYCTL_HOME: home } }];
  const pip = (home, args, extra = {}) => [join(home, 'venv', 'bin', 'pip'), args, { env: { ...realEnv, ...extra } }];
  const fresh = (tag) => {
    const home = join(tmp, tag);
    run(...pyctl(home, ['init', '--python', PY]));
    return home;
  };
  const freeze = (home) =>
    new Set(
      run(...pip(home, ['freeze'], NOREC))
        .stdout.split('\n')
        .filter(Boolean),
    );
  log(`real packages from: ${[...src.indexes, ...src.links].join(' ')}`);

  // BENCH_REAL_ROWS=pandas (or torch) runs one part: the torch rows take most of the group's time.
  const rows = new Set((process.env.BENCH_REAL_ROWS || 'pandas,torch').split(','));
  const pandasIndexed = src.indexes.some((u) => existsSync(join(fileURLToPath(u), 'pandas')));
  if (!rows.has('pandas')) log('skipping the pandas row: not in BENCH_REAL_ROWS');
  else if (!pandasIndexed) log('skipping the pandas row: no local index has pandas');
  else {
    const A = [];
    const B = [];
    for (let i = 0; i < runs; i++) {
      const ha = fresh(`pandas-a-${i}`);
      const hb = fresh(`pandas-b-${i}`);
      const [a, b] = fair(
        i,
        () => timed(...pip(ha, ['install', 'pandas'], NOREC)).ms,
        () => timed(...pip(hb, ['install', 'pandas'])).ms,
      );
      A.push(a);
      B.push(b);
      rmSync(ha, { recursive: true, force: true });
      rmSync(hb, { recursive: true, force: true });
    }
    let k = 0;
    row(
      'first pip install pandas (real wheels: numpy, pandas, ...): recorded vs plain pip',
      () => A[k],
      () => B[k++],
      { target: 1.05, runs, aLabel: 'plain pip', bLabel: 'recorded' },
    );
  }

  if (!rows.has('torch')) {
    log('skipping the torch rows: not in BENCH_REAL_ROWS');
    return;
  }
  const tag = `cp${run(PY, ['-c', 'import sys; print("%d%d" % sys.version_info[:2])']).stdout.trim()}`;
  const torch = src.links.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.startsWith('torch-') && f.includes(`-${tag}-`) && f.endsWith('.whl'))
      .map((f) => join(d, f)),
  )[0];
  if (!torch) {
    log(`skipping the torch rows: no torch wheel for ${tag} in ${src.links.join(' ') || '(no find-links folder)'}`);
    return;
  }
  const T = { inA: [], inB: [], unA: [], unB: [], reA: [], reB: [], rsA: [], rsB: [], venv: [], home: [] };
  for (let i = 0; i < runs; i++) {
    const ha = fresh(`torch-a-${i}`);
    const hb = fresh(`torch-b-${i}`);
    run(...pyctl(hb, ['snapshot', 'no-torch']));
    const before = freeze(ha);
    const both = (ka, kb, fa, fb) => {
      const [a, b] = fair(i, fa, fb);
      T[ka].push(a);
      T[kb].push(b);
    };
    both(
      'inA',
      'inB',
      () => timed(...pip(ha, ['install', torch], NOREC)).ms,
      () => timed(...pip(hb, ['install', torch])).ms,
    );
    const added = [...freeze(ha)].filter((l) => !before.has(l));
    const names = added.map((l) => l.split(/[=@ ]/)[0]);
    // The same wheels again, without resolving: torch's file, the rest pinned from the index.
    const specs = added.map((l) => (/^torch\b/i.test(l) ? torch : l));
    run(...pyctl(hb, ['snapshot', 'with-torch']));
    both(
      'unA',
      'unB',
      () => timed(...pip(ha, ['uninstall', '-y', ...names], NOREC)).ms,
      () => timed(...pyctl(hb, ['undo'])).ms,
    );
    waitForTrash(hb);
    both(
      'reA',
      'reB',
      () => timed(...pip(ha, ['install', '--no-deps', ...specs], NOREC)).ms,
      () => timed(...pyctl(hb, ['redo'])).ms,
    );
    // du counts a hard link once: venv, store and wheelhouse together against the venv alone.
    T.venv.push(duMB(join(hb, 'venv')));
    T.home.push(duMB(hb));
    run(...pip(ha, ['uninstall', '-y', ...names], NOREC));
    run(...pyctl(hb, ['restore', 'no-torch']));
    waitForTrash(hb);
    both(
      'rsA',
      'rsB',
      () => timed(...pip(ha, ['install', '--no-deps', ...specs], NOREC)).ms,
      () => timed(...pyctl(hb, ['restore', 'with-torch'])).ms,
    );
    rmSync(ha, { recursive: true, force: true });
    rmSync(hb, { recursive: true, force: true });
  }
  const pair = (name, a, b, opts) => {
    let k = 0;
    row(
      name,
      () => a[k],
      () => b[k++],
      { runs, ...opts },
    );
  };
  pair('first pip install of the torch CPU wheel (~1 GB installed): recorded vs plain pip', T.inA, T.inB, { target: 1.05, aLabel: 'plain pip', bLabel: 'recorded' });
  pair('pyctl undo of the torch install vs pip uninstall -y of the same packages', T.unA, T.unB, { target: 0.3, aLabel: 'pip uninstall -y', bLabel: 'pyctl undo' });
  pair('pyctl redo of the torch install vs pip install --no-deps of the same wheels', T.reA, T.reB, { target: 0.15, aLabel: 'pip install --no-deps', bLabel: 'pyctl redo' });
  pair('pyctl restore of a snapshot one torch away vs pip install --no-deps of the same wheels', T.rsA, T.rsB, { target: 0.15, aLabel: 'pip install --no-deps', bLabel: 'pyctl restore' });
  const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = mid(T.home.map((h, i) => h / T.venv[i]));
  results.push({
    row: 'du -s of the home vs its venv after torch install, undo and redo',
    a: { label: 'venv', median: mid(T.venv) },
    b: { label: 'home', median: mid(T.home) },
    mode: 'disk',
    value: ratio,
    target: 1.15,
    pass: ratio <= 1.15,
  });
  log(`disk after torch install, undo, redo: venv ${mid(T.venv).toFixed(0)} MB, home ${mid(T.home).toFixed(0)} MB -> ${ratio.toFixed(3)}x (target 1.15) ${ratio <= 1.15 ? 'PASS' : 'FAIL'}`);
}
