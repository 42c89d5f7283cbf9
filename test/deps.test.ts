/** PEP 508 markers and the dependency walk behind autoremove/why: pure, table-tested. */
import { describe, expect, it } from 'vitest';
import { eggRequires, orphans, walk, whyChains, type Node } from '../src/deps/graph.js';
import { evaluateMarker, MarkerError, parseRequirement, requirementActive, versionSpec } from '../src/packaging/pep508.js';

const env = {
  python_version: '3.11',
  python_full_version: '3.11.7',
  os_name: 'posix',
  sys_platform: 'linux',
  platform_system: 'Linux',
  platform_machine: 'x86_64',
  platform_release: '6.1.0',
  platform_version: '#1 SMP',
  platform_python_implementation: 'CPython',
  implementation_name: 'cpython',
  implementation_version: '3.11.7',
  extra: '',
};

describe('markers', () => {
  it.each([
    ['python_version < "3"', false],
    ['python_version >= "3"', true],
    ['python_version >= "3.8"', true],
    ['python_version > "3.11"', false],
    ['python_version >= "3.10"', true], // numeric, not string, order
    ['python_version == "3.11"', true],
    ['python_version == "3.*"', true],
    ['python_version != "3.11.*"', false],
    ['python_version ~= "3.9"', true],
    ['python_full_version >= "3.11.7"', true],
    ['"3.11" == python_version', true],
    ['sys_platform == "win32"', false],
    ['sys_platform != "win32"', true],
    ['sys.platform == "linux"', true],
    ['os_name == "nt" or sys_platform == "linux"', true],
    ['os_name == "posix" and python_version < "3"', false],
    ['(os_name == "nt" or os_name == "posix") and python_version >= "3.6"', true],
    ["platform_machine in 'x86_64 AMD64'", true],
    ["platform_machine not in 'arm64 aarch64'", true],
    ['"linux" in sys_platform', true],
    ['implementation_name == "pypy"', false],
    ['platform_python_implementation == "CPython"', true],
    ['extra == "fast"', false],
    ['platform_system < "Z"', false], // undefined string ordering: does not apply
  ])('%s -> %s', (m, want) => {
    expect(evaluateMarker(m, env)).toBe(want);
  });

  it('compares extras by normalized name', () => {
    expect(evaluateMarker('extra == "Fast_Mode"', { ...env, extra: 'fast-mode' })).toBe(true);
    expect(evaluateMarker('extra == "fast"', { ...env, extra: 'fast' })).toBe(true);
  });

  it.each(['python_version <', 'bogus == "1"', 'python_version == "3" and', '(python_version == "3"', 'os_name not "x"'])('rejects %j', (m) => {
    expect(() => evaluateMarker(m, env)).toThrow(MarkerError);
  });

  it('version specifiers', () => {
    expect(versionSpec('3.11', '<', '3.12')).toBe(true);
    expect(versionSpec('3.9', '~=', '3.9')).toBe(true);
    expect(versionSpec('4.0', '~=', '3.9')).toBe(false);
    expect(versionSpec('3.11.7', '==', '3.11.*')).toBe(true);
  });
});

describe('requirements', () => {
  it.each([
    ['requests', 'requests', [], '', null],
    ['Foo_Bar (>=1.0)', 'foo-bar', [], '(>=1.0)', null],
    ['lib[fast,Extra_Two]>=2; python_version >= "3"', 'lib', ['fast', 'extra-two'], '>=2', 'python_version >= "3"'],
    ['pkg @ https://x.org/a;b.whl ; os_name == "posix"', 'pkg', [], '@ https://x.org/a;b.whl', 'os_name == "posix"'],
    ['colorama; platform_system == "Windows"', 'colorama', [], '', 'platform_system == "Windows"'],
  ])('%s', (text, key, extras, spec, marker) => {
    const r = parseRequirement(text);
    expect(r.key).toBe(key);
    expect(r.extras).toEqual(extras);
    expect(r.spec).toBe(spec);
    expect(r.markerText).toBe(marker);
  });

  it('is active for the base install or an active extra', () => {
    const r = parseRequirement('speedy; extra == "fast"');
    expect(requirementActive(r, env, [])).toBe(false);
    expect(requirementActive(r, env, ['fast'])).toBe(true);
    const both = parseRequirement('x; extra == "fast" and python_version < "3"');
    expect(requirementActive(both, env, ['fast'])).toBe(false);
  });

  it('reads egg-info requires.txt sections', () => {
    expect(eggRequires('a>=1\n\n[fast]\nspeedy\n\n[:python_version < "3"]\nold\n\n[win:sys_platform == "win32"]\nwinthing\n')).toEqual([
      'a>=1',
      'speedy; extra == "fast"',
      'old; (python_version < "3")',
      'winthing; (sys_platform == "win32") and extra == "win"',
    ]);
  });
});

function graph(spec: Record<string, { requires?: string[]; requested?: boolean; name?: string }>): Map<string, Node> {
  return new Map(
    Object.entries(spec).map(([key, s]) => [key, { key, name: s.name ?? key, version: '1.0', requested: !!s.requested, requires: (s.requires ?? []).map(parseRequirement), unreadable: [] }]),
  );
}

describe('dependency walk', () => {
  const nodes = graph({
    pip: {},
    setuptools: {},
    app: { requested: true, requires: ['Foo_Bar>=1', 'lib[fast]', 'oldonly; python_version < "3"', 'notinstalled'] },
    'foo-bar': { name: 'Foo_Bar', requires: ['app', 'foo-bar'] }, // a cycle and a self-reference
    lib: { requires: ['speedy; extra == "fast"', 'slow; extra == "slow"'] },
    speedy: {},
    slow: {},
    other: { requested: true, requires: ['lib2'] },
    lib2: { requires: ['speedy2; extra == "fast"'] },
    speedy2: {},
    oldonly: {},
    click: {},
    black: { requested: true, requires: ['click>=8', 'tomli; python_version < "3.11"', 'aiohttp; extra == "d"'] },
    tomli: {},
    aiohttp: {},
  });

  it('finds orphans: markers false, inactive extras, leftovers', () => {
    // aiohttp stays: black is a root and its "d" extra's requirement is installed (pip does not record extras asked for).
    expect(orphans(nodes, env)).toEqual(['oldonly', 'slow', 'speedy2', 'tomli']);
    expect(orphans(nodes, { ...env, python_version: '3.10' })).toEqual(['oldonly', 'slow', 'speedy2']);
  });

  it('follows cycles without looping and records who pulled what in', () => {
    const w = walk(nodes, ['app'], env);
    expect([...w.needed.keys()].sort()).toEqual(['app', 'foo-bar', 'lib', 'speedy']);
    expect(w.needed.get('lib')).toEqual(new Set(['fast']));
  });

  it('explains why with chains from each requested package', () => {
    expect(whyChains(nodes, 'speedy', env)).toEqual([['app', 'lib', 'speedy']]);
    expect(whyChains(nodes, 'click', env)).toEqual([['black', 'click']]);
    expect(whyChains(nodes, 'foo-bar', env)).toEqual([['app', 'Foo_Bar']]);
    expect(whyChains(nodes, 'lib', env)).toEqual([['app', 'lib']]);
    expect(whyChains(nodes, 'speedy2', env)).toEqual([]);
  });

  it('an extra named deeper in the graph activates that extra only there', () => {
    const g = graph({ a: { requested: true, requires: ['b[x]'] }, b: { requires: ['c; extra == "x"', 'd; extra == "y"'] }, c: {}, d: {} });
    expect(orphans(g, env)).toEqual(['d']);
  });
});
