/** Python's posixpath.normpath / abspath, which pip applies to editable locations. */
import { isAbsolute, join } from 'node:path';

export function pyNormpath(path: string): string {
  if (path === '') return '.';
  const initial = path.startsWith('/') ? (path.startsWith('//') && !path.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initial && !out.length) || (out.length && out[out.length - 1] === '..')) out.push(comp);
    else if (out.length) out.pop();
  }
  const res = '/'.repeat(initial) + out.join('/');
  return res || '.';
}

export function pyAbspath(path: string): string {
  return pyNormpath(isAbsolute(path) ? path : join(process.cwd(), path));
}

/** urllib.parse.unquote: %XX sequences decoded as UTF-8, invalid bytes replaced. */
export function unquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** pathlib.PurePosixPath string form: '.' parts and repeated/trailing slashes dropped, '..' kept. */
export function pathlibStr(path: string): string {
  const initial = path.startsWith('//') && !path.startsWith('///') ? '//' : path.startsWith('/') ? '/' : '';
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return initial + parts.join('/') || '.';
}
