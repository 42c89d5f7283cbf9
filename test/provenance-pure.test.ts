/**
 * Pure parts of provenance and lock files, table-tested: pip's install report (archive, local
 * directory, VCS: no made-up hash for local builds), provenance.txt round trip, and PEP 751
 * documents read, checked, filtered by marker and turned into restore targets.
 */
import { describe, expect, it } from 'vitest';
import { formatOrigins, originsFromReport, parseOrigins } from '../src/provenance/origins.js';
import { applicablePackages, isPylockName, parsePylock, renderPylock } from '../src/packaging/pylock.js';
import { lockTargets } from '../src/reconcile/from-lock.js';

const H = 'a'.repeat(64);

// The shape of `pip install --report` (pip >= 22.2, "Installation Report" in pip's docs).
const report = JSON.stringify({
  version: '1',
  pip_version: '23.2.1',
  install: [
    {
      download_info: { url: 'https://u:secret@pypi.example.com/files/alpha-1.0-py3-none-any.whl', archive_info: { hash: `sha256=${H}`, hashes: { sha256: H } } },
      metadata: { name: 'alpha', version: '1.0' },
    },
    { download_info: { url: 'file:///home/me/src/mypkg', dir_info: {} }, metadata: { name: 'mypkg', version: '0.3' } },
    { download_info: { url: 'file:///home/me/src/edit', dir_info: { editable: true } }, metadata: { name: 'edit', version: '0.1' } },
    { download_info: { url: 'https://github.com/me/tool', vcs_info: { vcs: 'git', commit_id: 'b'.repeat(40) } }, metadata: { name: 'tool', version: '2.1' } },
    { download_info: { url: 'https://example.com/old-1.0.tar.gz', archive_info: { hash: `sha256=${H}` } }, metadata: { name: 'old', version: '1.0' } },
  ],
});

describe('provenance from pip install --report', () => {
  it('keeps archives with their sha256, marks local builds with no made-up hash, masks credentials', () => {
    const got = originsFromReport(report);
    expect(got).toEqual([
      { name: 'alpha', version: '1.0', kind: 'archive', url: 'https://u:****@pypi.example.com/files/alpha-1.0-py3-none-any.whl', file: 'alpha-1.0-py3-none-any.whl', sha256: H },
      { name: 'mypkg', version: '0.3', kind: 'local-dir', url: 'file:///home/me/src/mypkg' },
      { name: 'edit', version: '0.1', kind: 'local-dir', url: 'file:///home/me/src/edit' },
      { name: 'tool', version: '2.1', kind: 'vcs', url: `git+https://github.com/me/tool@${'b'.repeat(40)}` },
      { name: 'old', version: '1.0', kind: 'archive', url: 'https://example.com/old-1.0.tar.gz', file: 'old-1.0.tar.gz', sha256: H },
    ]);
    const text = formatOrigins(new Map(got.map((o) => [`${o.name}==${o.version}`, o])));
    expect(text).toMatch(/^mypkg==0\.3 local-dir - file:\/\/\/home\/me\/src\/mypkg$/m);
    expect(text).toMatch(/^tool==2\.1 vcs - git\+https:/m);
    expect(text).not.toMatch(/secret/);
    expect([...parseOrigins(text).values()].sort((a, b) => a.name.localeCompare(b.name))).toEqual([...got].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it.each(['', 'not json', '{"install": [{"metadata": {"name": "x"}}]}'])('reads nothing from %j', (text) => {
    expect(originsFromReport(text)).toEqual([]);
  });
});

describe('PEP 751 lock files', () => {
  const env = { python_version: '3.11', python_full_version: '3.11.7', sys_platform: 'linux', platform_system: 'Linux', implementation_name: 'cpython', os_name: 'posix', extra: '' };
  const pythonOk = (spec: string) => !spec.startsWith('<3');

  it.each([
    ['pylock.toml', true],
    ['pylock.dev.toml', true],
    ['/x/y/pylock.toml', true],
    ['pylock.a.b.toml', false],
    ['locked.toml', false],
    ['requirements.txt', false],
  ])('%s is a PEP 751 file name: %s', (name, ok) => expect(isPylockName(name)).toBe(ok));

  it('round-trips what pyctl writes, and turns each source kind into a restore target', () => {
    const text = renderPylock(
      {
        'lock-version': '1.0',
        'created-by': 'pyctl',
        'requires-python': '>=3.11',
        packages: [
          {
            name: 'alpha',
            version: '1.0',
            index: 'https://pypi.example.com/simple/',
            wheels: [{ name: 'alpha-1.0-py3-none-any.whl', url: 'https://pypi.example.com/files/alpha-1.0-py3-none-any.whl', size: 868, hashes: { sha256: H } }],
          },
          { name: 'old', version: '1.0', sdist: { name: 'old-1.0.tar.gz', url: 'https://e.com/old-1.0.tar.gz', hashes: { sha256: H } } },
          { name: 'direct', version: '3.0', archive: { url: 'https://e.com/direct-3.0-py3-none-any.whl', hashes: { sha256: H } } },
          { name: 'tool', vcs: { type: 'git', url: 'https://github.com/me/tool', 'commit-id': 'b'.repeat(40) } },
          { name: 'mine', directory: { path: 'src/mine', editable: true } },
          { name: 'win', version: '1.0', marker: "sys_platform == 'win32'", wheels: [{ url: 'https://e.com/win-1.0-py3-none-any.whl', hashes: { sha256: H } }] },
        ],
      },
      ['a comment'],
    );
    expect(text).toMatch(/^# a comment\nlock-version = "1\.0"\n/);
    const lock = parsePylock(text, 'pylock.toml');
    const { packages, skipped } = applicablePackages(lock, env, pythonOk, 'pylock.toml');
    expect(skipped).toEqual(["win 1.0 (sys_platform == 'win32')"]);
    const t = lockTargets(packages, '/work/proj', 'pylock.toml');
    expect(t.lines).toEqual([
      'alpha==1.0',
      'old==1.0',
      `direct @ https://e.com/direct-3.0-py3-none-any.whl#sha256=${H}`,
      `tool @ git+https://github.com/me/tool@${'b'.repeat(40)}`,
      '-e /work/proj/src/mine',
    ]);
    expect(t.files.get('alpha==1.0')).toEqual([{ url: 'https://pypi.example.com/files/alpha-1.0-py3-none-any.whl', file: 'alpha-1.0-py3-none-any.whl', sha256: H }]);
    expect(t.origins.map((o) => `${o.name} ${o.file}`)).toEqual(['alpha alpha-1.0-py3-none-any.whl', 'old old-1.0.tar.gz']);
  });

  it('takes a wheel given by a path relative to the lock file, and a name from its URL', () => {
    const lock = parsePylock(
      `lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\nversion = "1"\nwheels = [{ path = "wheels/a-1-py3-none-any.whl", hashes = { sha256 = "${H}" } }]\n`,
      'pylock.toml',
    );
    const t = lockTargets(lock.packages, '/l', 'pylock.toml');
    expect(t.files.get('a==1')).toEqual([{ url: 'file:///l/wheels/a-1-py3-none-any.whl', file: 'a-1-py3-none-any.whl', sha256: H }]);
  });
});
