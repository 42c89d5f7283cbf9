/**
 * `npm run build`: dist/ as few, self-contained modules (install.sh copies dist/ alone).
 *
 * Node 20's ES module loader costs ~1-2 ms per module (resolve, async read, link), more than
 * compiling the code: the old code-split build made `pyctl undo` load ~30 chunks (~40 ms). So:
 *   dist/pyctl.js           the entry (CommonJS: dist/package.json): picks one of the three below
 *   dist/status.cjs         status's fast lane alone (40 KB: smaller than one big module to compile)
 *   dist/record.cjs         the pip hook's record alone (200 KB; runs on every pip run that changes the venv)
 *   dist/cli.cjs            everything else
 *   dist/vendor/*.cjs       isomorphic-git and execa (800 KB), loaded only when git's fallback
 *                           or pip itself runs
 * All but the entry are CommonJS function bodies run with V8's code cache (code-cache.ts).
 * Measured (same machine, alternating runs): pyctl undo 192 -> ~155 ms, status 115 -> ~95 ms,
 * a record ~160 -> ~125 ms (install) and ~155 -> ~140 ms (uninstall).
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const live = join(root, 'dist');
// Built beside dist/ and swapped in at the end: tests (or a pyctl) running from this checkout
// never see dist/ missing or half-written, and a failed build leaves the last good one.
const out = `${live}.tmp-${process.pid}`;
const VENDOR = ['isomorphic-git', 'execa'];

// Bundled CommonJS dependencies call require() for Node's own modules.
const banner = { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" };
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node18.19', logLevel: 'warning', banner, absWorkingDir: root };

/** Leave these imports to the runtime, pointing at the sibling files built here. */
const linkTo = (map) => ({
  name: 'link-to',
  setup(b) {
    for (const [from, to] of Object.entries(map)) {
      const filter = new RegExp(`^${from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
      b.onResolve({ filter }, () => ({ path: to, external: true }));
    }
  },
});
const vendorLinks = Object.fromEntries(VENDOR.map((v) => [v, `./vendor/${v}.cjs`]));

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
// What an earlier build that was killed left beside dist/ (not another build's, still running).
for (const n of readdirSync(root)) {
  const m = /^dist\.(?:tmp|old)-(\d+)$/.exec(n);
  if (m && !alive(Number(m[1]))) rmSync(join(root, n), { recursive: true, force: true });
}
/** Promise.all that waits for every build to end before failing: none still writes when `out` goes. */
async function settled(builds) {
  const results = await Promise.allSettled(builds);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => r.value);
}
// A failed build leaves nothing behind: dist/ stays as the last good build made it.
process.on('exit', () => rmSync(out, { recursive: true, force: true }));
/**
 * Node's modules most commands never use, loaded at their first use instead of when the module
 * that imports them is initialized: every command ran the top of most of the CLI's modules, so
 * every start (help included) loaded node:crypto, node:child_process (with net and dgram) and
 * node:zlib (~15 ms of CPU; `pyctl help` 166 -> 157 ms). Each `X = require("node:M")` becomes a stand-in whose first property
 * read requires M; the build checks that the bundle only ever reads properties of X.
 */
const LAZY = ['crypto', 'child_process', 'zlib'];
function lazyBuiltins(code, what) {
  const names = [];
  const out = code.replace(new RegExp(`\\b(var )?([\\w$]+) = (?:__toESM\\()?require\\("node:(${LAZY.join('|')})"\\)(?:, 1\\))?;`, 'g'), (_, v, name, mod) => {
    names.push(name);
    return `${v ?? ''}${name} = __pyctlLazy("node:${mod}");`;
  });
  for (const name of names) {
    const esc = name.replace(/\$/g, '\\$');
    const bad = [...out.matchAll(new RegExp(`(?<![\\w$."/:])${esc}\\b(?![\\w$]* = __pyctlLazy\\()(?!\\.(?!default\\b)[\\w$]+)`, 'g'))].filter(
      (m) => !/^var [\w$, ]*$/.test(out.slice(out.lastIndexOf('\n', m.index) + 1, m.index)),
    );
    if (bad.length) throw new Error(`${what}: ${name} is used other than by reading its properties: ${out.slice(bad[0].index - 40, bad[0].index + 40)}`);
  }
  const lazy = 'var __pyctlLazy = (id) => { let m; return new Proxy({}, { get: (_, k) => (m || (m = require(id)))[k] }); };\n';
  return lazy + out;
}

/**
 * `entry` as a CommonJS function body in dist/NAME.cjs: src/code-cache.ts compiles it with V8's
 * code cache, which Node 18-20 offer for no ES module. import.meta.url (the hook's and the shell
 * scripts' folder) is the function's __pyctlUrl; its import() of dist/vendor and of Node's
 * modules go through a function code-cache.ts passes in (Node 20 loses vm.Script's
 * importModuleDynamically for code that came from the cache). Returns its build's id (a hash),
 * which names the build for the cache.
 */
async function cjsBody(entry, name) {
  const file = join(out, `${name}.cjs`);
  await build({
    ...common,
    format: 'cjs',
    banner: undefined,
    define: { 'import.meta.url': '__pyctlUrl' },
    entryPoints: [entry],
    outfile: file,
    plugins: [linkTo(vendorLinks)],
  });
  const code = lazyBuiltins(readFileSync(file, 'utf8').replace(/\bimport\((?=")/g, '__pyctlImport('), `dist/${name}.cjs`);
  const strange = [...code.matchAll(/\bimport\(|__pyctlImport\((?!"(?:\.\/vendor\/[\w.-]+\.cjs|node:\w+)"\))/g)];
  if (strange.length) throw new Error(`dist/${name}.cjs: an import() code-cache.ts cannot serve: ${code.slice(strange[0].index, strange[0].index + 80)}`);
  writeFileSync(file, code);
  return createHash('sha256').update(code).digest('hex').slice(0, 16);
}
// The CLI and the two lanes: the pip hook's record runs on every pip run that changes the venv,
// status's fast lane on most `pyctl status` (as ES modules they were compiled again each time).
const [cliId, recordId, statusId] = await settled([cjsBody('src/cli.ts', 'cli'), cjsBody('src/lanes/record.ts', 'record'), cjsBody('src/lanes/status.ts', 'status')]);
await settled([
  ...VENDOR.map((v) =>
    build({
      ...common,
      // CommonJS, so that code-cache.ts can compile it with V8's code cache (and the lanes, ES
      // modules, import it as Node imports any CommonJS module).
      format: 'cjs',
      banner: undefined,
      stdin: { contents: `export * from '${v}';${v === 'isomorphic-git' ? ` export { default } from '${v}';` : ''}`, resolveDir: root },
      outfile: join(out, 'vendor', `${v}.cjs`),
      // isomorphic-git deflates each object through web streams and `new Response()` (which loads
      // Node's undici, ~40 ms) and hashes each through async WebCrypto when they exist; without
      // them it takes pako and Node's createHash, synchronously (a first push of 13 operations:
      // ~0.9 -> ~0.75 s of CPU). Its inflate already takes pako.
      ...(v === 'isomorphic-git' ? { define: { CompressionStream: 'undefined', 'crypto.subtle': 'undefined' } } : {}),
    }),
  ),
  // The entry is CommonJS (dist/package.json below): Node's ES module loader cost each command
  // ~12 ms of CPU before any code ran, and the CLI itself is no ES module.
  build({
    ...common,
    format: 'cjs',
    banner: { js: "'use strict';const __pyctlEntryUrl = require('node:url').pathToFileURL(__filename).href;" },
    entryPoints: ['src/main.ts'],
    outfile: join(out, 'pyctl.js'),
    define: {
      PYCTL_CLI_ID: JSON.stringify(cliId),
      PYCTL_RECORD_ID: JSON.stringify(recordId),
      PYCTL_STATUS_ID: JSON.stringify(statusId),
      'import.meta.url': '__pyctlEntryUrl',
    },
  }),
]);
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

const old = `${live}.old-${process.pid}`;
try {
  renameSync(live, old);
} catch (e) {
  if (e.code !== 'ENOENT') throw e; // the first build
}
renameSync(out, live);
rmSync(old, { recursive: true, force: true });
