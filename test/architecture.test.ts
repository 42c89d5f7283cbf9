/** Claims of docs/architecture.md that a test can check: the folder table, who prints, comments that name files. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const arch = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs)$/.test(n) ? [p] : [];
  });
}
const rel = (p: string) => relative(ROOT, p);

describe('docs/architecture.md', () => {
  it('has a row for every folder of src/, and every row names something that exists', () => {
    const rows = [...arch.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    for (const d of readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory())) expect(rows, d).toContain(`src/${d}/`);
    for (const r of rows.filter((r) => !r.includes('*') && (r.startsWith('src/') || r.startsWith('hooks') || r.startsWith('test')))) expect(existsSync(join(ROOT, r)), r).toBe(true);
  });

  it("names every module of src/ in its folder's row (commands/ and doctor/checks/ go by their rule)", () => {
    const table = arch.slice(arch.indexOf('## Folders'), arch.indexOf('## The data path'));
    const rowOf = (folder: string) => table.split('\n').find((l) => l.startsWith(`| \`${folder}\` |`)) ?? '';
    const unnamed: string[] = [];
    for (const f of sources().map(rel)) {
      const [, top, ...rest] = f.split('/');
      if (!rest.length) {
        if (!table.includes(`\`${top}\``) && !table.includes(`\`${f}\``)) unnamed.push(f); // src/*.ts: named anywhere in the table
        continue;
      }
      // One module per command (docs/commands.md's test checks them) and per doctor check (checks/index.ts lists them).
      if (top === 'commands' || (top === 'doctor' && rest[0] === 'checks' && rest[1] !== 'index.ts')) continue;
      if (!rowOf(`src/${top}/`).includes(`\`${rest.join('/')}\``)) unnamed.push(f);
    }
    expect(unnamed).toEqual([]);
  });
});

describe('who prints', () => {
  // Only these write to stdout/stderr; everything else returns results or reports through what its
  // caller passed down (ctx.note, ctx.reporter, the test pause signal).
  // os-error.ts is theirs too: the stdout/stderr error handler (EPIPE, /dev/full) they install.
  const PRINTERS = new Set(['src/cli.ts', 'src/lanes/status.ts', 'src/lanes/record.ts', 'src/os-error.ts']);
  // Elsewhere the streams may only be asked whether they are a terminal (useColor(process.stderr, ...)):
  // handing one to a writer is printing too.
  const prints = (text: string) =>
    /console\.(log|error|warn|info)\(|writeSync\(\s*[12]\b/.test(text) || [...text.matchAll(/process\.(stdout|stderr)\b/g)].some((m) => !text.slice(0, m.index).endsWith('useColor('));
  it('only cli.ts and the two lanes write to stdout/stderr', () => {
    const writers = sources()
      .filter((f) => prints(readFileSync(f, 'utf8')))
      .map(rel)
      .filter((f) => !PRINTERS.has(f));
    expect(writers.sort()).toEqual([]);
  });
  it('the check sees a write, a console call and a stream handed on', () => {
    expect(prints("process.stderr.write('x')")).toBe(true);
    expect(prints('console.log(1)')).toBe(true);
    expect(prints('terminalReporter({ stream: process.stderr })')).toBe(true);
    expect(prints('useColor(process.stderr, true)')).toBe(false);
  });
});

describe('comments and docs name files that exist', () => {
  it('every docs/*.md and test/*.test.ts a source file mentions is there', () => {
    const missing: string[] = [];
    for (const f of sources()) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\b((?:docs\/[\w.-]+\.md)|(?:test\/[\w.-]+\.test\.ts))\b/g)) {
        if (!existsSync(join(ROOT, m[1]))) missing.push(`${rel(f)}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the build (src/build.mjs)', () => {
  it("isomorphic-git's bundle has no web-stream deflate and no WebCrypto hash to take (pako and createHash instead)", () => {
    const vendor = readFileSync(join(ROOT, 'dist', 'vendor', 'isomorphic-git.cjs'), 'utf8');
    expect(vendor).toMatch(/pako\.deflate\(/);
    expect(vendor).not.toMatch(/new CompressionStream\(/);
    expect(vendor).not.toMatch(/crypto\.subtle\.digest\(/);
  });
});
