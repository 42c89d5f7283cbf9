/** Pure parts of fetching pip without pip: pip's config order, the simple API's two formats, choosing a wheel, netrc, proxies. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netrcCredentials, proxyFor, redact } from '../src/net/http.js';
import { parseIni, pipConfigFiles, pipSettings, PYPI } from '../src/net/pip-config.js';
import { parseHtml, parseJson, pickWheel, pythonAllowed } from '../src/net/simple-index.js';
import { removeDir, tempDir } from './helpers/env.js';

let work: string;
beforeAll(() => {
  work = tempDir('pyctl-pipconf-');
});
afterAll(() => removeDir(work));

describe('pip config', () => {
  it('parses INI as configparser: continuation lines, comments, ":" and "=", key spelling', () => {
    const ini = parseIni('# c\n[global]\nIndex_URL: http://a/\nextra-index-url =\n    http://b/\n\n    http://c/\n; x\n[install]\nno-index=yes\n');
    expect(ini.get('global')!.get('index-url')).toBe('http://a/');
    expect(ini.get('global')!.get('extra-index-url')!.split(/\s+/).filter(Boolean)).toEqual(['http://b/', 'http://c/']);
    expect(ini.get('install')!.get('no-index')).toBe('yes');
  });

  it("reads pip's files in pip's order; PIP_CONFIG_FILE=/dev/null disables them, an existing one skips the user files", () => {
    const env = { HOME: '/h', XDG_CONFIG_DIRS: '/x1:/x2' };
    expect(pipConfigFiles(env, '/v')).toEqual(['/x1/pip/pip.conf', '/x2/pip/pip.conf', '/etc/pip.conf', '/h/.pip/pip.conf', '/h/.config/pip/pip.conf', '/v/pip.conf']);
    expect(pipConfigFiles({ ...env, PIP_CONFIG_FILE: '/dev/null' })).toBe('disabled');
    const f = join(work, 'env.conf');
    writeFileSync(f, '');
    expect(pipConfigFiles({ ...env, PIP_CONFIG_FILE: f })).toEqual(['/x1/pip/pip.conf', '/x2/pip/pip.conf', '/etc/pip.conf', f]);
  });

  it('later files win, [install] beats [global], PIP_* beats files; PyPI by default', () => {
    const home = join(work, 'home');
    mkdirSync(join(home, '.pip'), { recursive: true });
    mkdirSync(join(home, '.config', 'pip'), { recursive: true });
    writeFileSync(join(home, '.pip', 'pip.conf'), '[install]\nindex-url = http://legacy/\n[global]\nproxy = http://p:3128\n');
    writeFileSync(join(home, '.config', 'pip', 'pip.conf'), '[global]\nindex-url = http://new/\nextra-index-url = http://e1/ http://e2/\n');
    const env = { HOME: home, XDG_CONFIG_DIRS: join(work, 'none') };
    const s = pipSettings(env);
    expect(s.indexes).toEqual(['http://legacy/', 'http://e1/', 'http://e2/']); // [install] in any file beats [global]
    expect(s.proxy).toBe('http://p:3128');
    expect(pipSettings({ ...env, PIP_INDEX_URL: 'http://env/', PIP_EXTRA_INDEX_URL: 'http://x/' }).indexes).toEqual(['http://env/', 'http://x/']);
    expect(pipSettings({ ...env, PIP_NO_INDEX: '1' }).indexes).toEqual([]);
    expect(pipSettings({ HOME: join(work, 'empty'), XDG_CONFIG_DIRS: join(work, 'none'), PIP_CONFIG_FILE: '/dev/null' }).indexes).toEqual([PYPI]);
  });
});

describe('the simple repository API', () => {
  it('reads PEP 503 HTML: relative and <base> hrefs, sha256 fragments, entities, yanked', () => {
    const html =
      '<base href="https://files.example/x/"><a href="../p/pip-24.0-py3-none-any.whl#sha256=ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789" data-requires-python="&gt;=3.7">pip</a>\n<a href=\'pip-23.0-py3-none-any.whl\' data-yanked>old</a>';
    const files = parseHtml(html, 'https://idx.example/simple/pip/');
    expect(files[0]).toEqual({
      filename: 'pip-24.0-py3-none-any.whl',
      url: 'https://files.example/p/pip-24.0-py3-none-any.whl',
      sha256: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
      requiresPython: '>=3.7',
      yanked: false,
    });
    expect(files[1]).toMatchObject({ url: 'https://files.example/x/pip-23.0-py3-none-any.whl', sha256: undefined, yanked: true });
  });

  it('reads PEP 691 JSON', () => {
    const doc = JSON.stringify({
      meta: { 'api-version': '1.1' },
      name: 'pip',
      files: [{ filename: 'pip-24.0-py3-none-any.whl', url: '/f/pip-24.0-py3-none-any.whl', hashes: { sha256: 'AA' }, 'requires-python': '>=3.8', yanked: 'bad' }],
    });
    expect(parseJson(doc, 'https://idx.example/simple/pip/')).toEqual([
      { filename: 'pip-24.0-py3-none-any.whl', url: 'https://idx.example/f/pip-24.0-py3-none-any.whl', sha256: 'aa', requiresPython: '>=3.8', yanked: true },
    ]);
  });

  it('picks the newest final pure wheel the Python can run', () => {
    const f = (filename: string, requiresPython?: string, yanked = false) => ({ filename, url: `https://x/${filename}`, requiresPython, yanked });
    const files = [
      f('pip-25.1-py3-none-any.whl', '>=3.9'),
      f('pip-25.0.1-py3-none-any.whl', '>=3.8'),
      f('pip-25.0.2-py3-none-any.whl', '>=3.8', true),
      f('pip-26.0b1-py3-none-any.whl'),
      f('pip-25.0.1.tar.gz'),
      f('pip-30-cp38-cp38-linux_x86_64.whl'),
    ];
    expect(pickWheel(files, 'pip', '3.8.18')?.version).toBe('25.0.1');
    expect(pickWheel(files, 'pip', '3.12.1')?.version).toBe('25.1');
    expect(pickWheel([f('pip-26.0b1-py3-none-any.whl')], 'pip', '3.12.1')?.version).toBe('26.0b1'); // only pre-releases: take one
    expect(pythonAllowed('>=3.7, !=3.8.*', '3.8.1')).toBe(false);
    expect(pythonAllowed('~=3.9', '3.12.0')).toBe(true);
  });
});

describe('network settings', () => {
  it('takes credentials from ~/.netrc for the host, else its default entry', () => {
    const netrc = join(work, 'netrc');
    writeFileSync(netrc, 'machine idx.example login ann password s3cret\ndefault login anon password x\n');
    expect(netrcCredentials('idx.example', { NETRC: netrc })).toBe('ann:s3cret');
    expect(netrcCredentials('other.example', { NETRC: netrc })).toBe('anon:x');
    expect(netrcCredentials('idx.example', { NETRC: join(work, 'missing') })).toBeUndefined();
  });

  it("uses https_proxy/http_proxy unless no_proxy matches; pip's proxy option wins", () => {
    const env = { https_proxy: 'http://p:1', HTTP_PROXY: 'http://q:2', no_proxy: 'internal.example,.corp' };
    expect(proxyFor(new URL('https://pypi.org/simple/'), { env })).toBe('http://p:1');
    expect(proxyFor(new URL('http://pypi.org/simple/'), { env })).toBe('http://q:2');
    expect(proxyFor(new URL('https://a.internal.example/'), { env })).toBeUndefined();
    expect(proxyFor(new URL('https://x.corp/'), { env })).toBeUndefined();
    expect(proxyFor(new URL('https://x.corp/'), { env, proxy: 'http://opt:3' })).toBe('http://opt:3');
  });

  it('never shows a password in a URL', () => {
    expect(redact('https://ann:s3cret@idx.example/simple/')).toBe('https://idx.example/simple/');
  });
});
