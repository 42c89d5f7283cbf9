/**
 * Build a pyctl home whose state repo holds N operations, without running pip N times: the
 * commits are written with `git fast-import` in the exact shape pyctl records (freeze.txt,
 * config.toml and .gitignore in the tree; the subject, `+/-/~` body and Pyctl-* trailers of
 * src/gitstore/message.ts composeMessage). Each operation changes one line of a ~100-package
 * freeze: half add then remove an extra package, half upgrade then downgrade a base package, so
 * after an even N the state equals the base freeze again.
 *
 * Usage as a module: generateHistory({ home, ops, baseFreeze, venv, config, gitignore }).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function parse(freeze) {
  return freeze
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, version] = l.split('==');
      return { name, version };
    });
}
const render = (pkgs) =>
  [...pkgs]
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))
    .map((p) => `${p.name}==${p.version}\n`)
    .join('');

function message(subject, lines, meta) {
  const trailers = [
    `Pyctl-Op: ${meta.op}`,
    `Pyctl-Kind: ${meta.kind}`,
    ...(meta.exit !== undefined ? [`Pyctl-Exit: ${meta.exit}`] : []),
    `Pyctl-Python: ${meta.python}`,
    `Pyctl-Interpreter: ${meta.interpreter}`,
  ].join('\n');
  return `${subject}\n\n${lines.length ? lines.join('\n') + '\n\n' : ''}${trailers}\n`;
}

export function generateHistory({ home, ops, baseFreeze, venv, config, gitignore, python = '3.11.7', interpreter = '/usr/bin/python3' }) {
  mkdirSync(home, { recursive: true });
  const git = (args, input) => {
    const r = spawnSync('git', ['-C', home, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  git(['init', '-q', '-b', 'main']);
  const base = parse(baseFreeze);
  const t0 = Math.floor(Date.now() / 1000) - ops * 60 - 3600;
  const who = (t) => `bench <bench@localhost> ${t} +0000`;
  const chunks = [];
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  chunks.push('blob\nmark :1\n' + data(config) + 'blob\nmark :2\n' + data(gitignore));
  let state = base.map((p) => ({ ...p }));
  let last;
  const commit = (op, subject, kind, lines, pkgs) => {
    const freeze = render(pkgs);
    last = { op, kind, subject, time: t0 + op * 60, lines, packages: pkgs.length };
    chunks.push(
      `commit refs/heads/main\nmark :${op + 10}\ncommitter ${who(t0 + op * 60)}\n` +
        data(message(subject, lines, { op, kind, exit: kind === 'init' ? undefined : 0, python, interpreter })) +
        (op > 0 ? `from :${op + 9}\n` : '') +
        `M 100644 :2 .gitignore\nM 100644 :1 config.toml\nM 100644 inline freeze.txt\n` +
        data(freeze),
    );
  };
  commit(0, `pyctl init (Python ${python})`, 'init', [], state);
  chunks.push(`tag baseline\nfrom :10\ntagger ${who(t0)}\n` + data('The state right after pyctl init\n'));
  for (let op = 1; op <= ops; op++) {
    const k = Math.ceil(op / 2);
    const first = op % 2 === 1;
    if (k % 2 === 0) {
      const name = `extra-pkg-${k % 500}`;
      if (first) {
        state.push({ name, version: '1.0' });
        commit(op, `pip install ${name}`, 'install', [`+ ${name} 1.0`], state);
      } else {
        state = state.filter((p) => p.name !== name);
        commit(op, `pip uninstall -y ${name}`, 'uninstall', [`- ${name} 1.0`], state);
      }
    } else {
      const i = k % base.length;
      const p = base[i];
      const up = `${p.version}.post${k}`;
      state = state.map((q) => (q.name === p.name ? { ...q, version: first ? up : p.version } : q));
      commit(
        op,
        first ? `pip install -U ${p.name}` : `pip install ${p.name}==${p.version}`,
        first ? 'install' : 'install',
        [first ? `~ ${p.name} ${p.version} -> ${up}` : `~ ${p.name} ${up} -> ${p.version}`],
        state,
      );
    }
  }
  git(['fast-import', '--quiet'], chunks.join(''));
  git(['reset', '--hard', '-q', 'main']);
  // What pyctl keeps next to the repo after a record: stamp and the last-operation cache.
  const runtime = join(home, '.git', 'pyctl');
  mkdirSync(runtime, { recursive: true });
  symlinkSync(venv, join(home, 'venv'));
  const lib = join(venv, 'lib');
  const site = join(
    lib,
    readdirSync(lib).find((d) => /^python3\.\d+$/.test(d)),
    'site-packages',
  );
  writeFileSync(join(runtime, 'stamp'), `${statSync(site, { bigint: true }).mtimeNs}\n`);
  const head = git(['rev-parse', 'HEAD']).trim();
  const counts = { added: 0, removed: 0, upgraded: 0, downgraded: 0, changed: 0 };
  for (const l of last.lines) {
    if (l.startsWith('+')) counts.added++;
    else if (l.startsWith('-')) counts.removed++;
    else counts.upgraded++;
  }
  writeFileSync(join(runtime, 'last.json'), JSON.stringify({ commit: head, op: last.op, kind: last.kind, subject: last.subject, time: last.time, counts, packages: last.packages }) + '\n');
  return { head };
}
